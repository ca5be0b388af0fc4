// Helper names by id, as the kernel's disassembler prints them (`bpf_` + the name), for the ids
// Linux 5.10 knows: 0..155, `unspec` through `redirect_peer` (the order of `___BPF_FUNC_MAPPER`
// in include/uapi/linux/bpf.h; ids are stable across releases, later kernels only append).
//
// This table may move to src/isa or the kernel model once more layers need helper ids.

const NAMES: readonly string[] = Object.freeze([
  /*   0 */ 'unspec', 'map_lookup_elem', 'map_update_elem', 'map_delete_elem', 'probe_read',
  /*   5 */ 'ktime_get_ns', 'trace_printk', 'get_prandom_u32', 'get_smp_processor_id', 'skb_store_bytes',
  /*  10 */ 'l3_csum_replace', 'l4_csum_replace', 'tail_call', 'clone_redirect', 'get_current_pid_tgid',
  /*  15 */ 'get_current_uid_gid', 'get_current_comm', 'get_cgroup_classid', 'skb_vlan_push', 'skb_vlan_pop',
  /*  20 */ 'skb_get_tunnel_key', 'skb_set_tunnel_key', 'perf_event_read', 'redirect', 'get_route_realm',
  /*  25 */ 'perf_event_output', 'skb_load_bytes', 'get_stackid', 'csum_diff', 'skb_get_tunnel_opt',
  /*  30 */ 'skb_set_tunnel_opt', 'skb_change_proto', 'skb_change_type', 'skb_under_cgroup', 'get_hash_recalc',
  /*  35 */ 'get_current_task', 'probe_write_user', 'current_task_under_cgroup', 'skb_change_tail', 'skb_pull_data',
  /*  40 */ 'csum_update', 'set_hash_invalid', 'get_numa_node_id', 'skb_change_head', 'xdp_adjust_head',
  /*  45 */ 'probe_read_str', 'get_socket_cookie', 'get_socket_uid', 'set_hash', 'setsockopt',
  /*  50 */ 'skb_adjust_room', 'redirect_map', 'sk_redirect_map', 'sock_map_update', 'xdp_adjust_meta',
  /*  55 */ 'perf_event_read_value', 'perf_prog_read_value', 'getsockopt', 'override_return', 'sock_ops_cb_flags_set',
  /*  60 */ 'msg_redirect_map', 'msg_apply_bytes', 'msg_cork_bytes', 'msg_pull_data', 'bind',
  /*  65 */ 'xdp_adjust_tail', 'skb_get_xfrm_state', 'get_stack', 'skb_load_bytes_relative', 'fib_lookup',
  /*  70 */ 'sock_hash_update', 'msg_redirect_hash', 'sk_redirect_hash', 'lwt_push_encap', 'lwt_seg6_store_bytes',
  /*  75 */ 'lwt_seg6_adjust_srh', 'lwt_seg6_action', 'rc_repeat', 'rc_keydown', 'skb_cgroup_id',
  /*  80 */ 'get_current_cgroup_id', 'get_local_storage', 'sk_select_reuseport', 'skb_ancestor_cgroup_id', 'sk_lookup_tcp',
  /*  85 */ 'sk_lookup_udp', 'sk_release', 'map_push_elem', 'map_pop_elem', 'map_peek_elem',
  /*  90 */ 'msg_push_data', 'msg_pop_data', 'rc_pointer_rel', 'spin_lock', 'spin_unlock',
  /*  95 */ 'sk_fullsock', 'tcp_sock', 'skb_ecn_set_ce', 'get_listener_sock', 'skc_lookup_tcp',
  /* 100 */ 'tcp_check_syncookie', 'sysctl_get_name', 'sysctl_get_current_value', 'sysctl_get_new_value', 'sysctl_set_new_value',
  /* 105 */ 'strtol', 'strtoul', 'sk_storage_get', 'sk_storage_delete', 'send_signal',
  /* 110 */ 'tcp_gen_syncookie', 'skb_output', 'probe_read_user', 'probe_read_kernel', 'probe_read_user_str',
  /* 115 */ 'probe_read_kernel_str', 'tcp_send_ack', 'send_signal_thread', 'jiffies64', 'read_branch_records',
  /* 120 */ 'get_ns_current_pid_tgid', 'xdp_output', 'get_netns_cookie', 'get_current_ancestor_cgroup_id', 'sk_assign',
  /* 125 */ 'ktime_get_boot_ns', 'seq_printf', 'seq_write', 'sk_cgroup_id', 'sk_ancestor_cgroup_id',
  /* 130 */ 'ringbuf_output', 'ringbuf_reserve', 'ringbuf_submit', 'ringbuf_discard', 'ringbuf_query',
  /* 135 */ 'csum_level', 'skc_to_tcp6_sock', 'skc_to_tcp_sock', 'skc_to_tcp_timewait_sock', 'skc_to_tcp_request_sock',
  /* 140 */ 'skc_to_udp6_sock', 'get_task_stack', 'load_hdr_opt', 'store_hdr_opt', 'reserve_hdr_opt',
  /* 145 */ 'inode_storage_get', 'inode_storage_delete', 'd_path', 'copy_from_user', 'snprintf_btf',
  /* 150 */ 'seq_printf_btf', 'skb_cgroup_classid', 'redirect_neigh', 'per_cpu_ptr', 'this_cpu_ptr',
  /* 155 */ 'redirect_peer',
]);

/** Last helper id Linux 5.10 defines (`BPF_FUNC_redirect_peer`); `__BPF_FUNC_MAX_ID` is one more. */
export const LINUX_5_10_LAST_HELPER = 155;

/** `bpf_<name>` for a known id (as `func_id_name()` gives it), undefined otherwise. */
export function helperName(id: number): string | undefined {
  return Number.isInteger(id) && id >= 0 && id < NAMES.length ? `bpf_${NAMES[id]}` : undefined;
}

/** The id of `bpf_<name>` or `<name>`, undefined when unknown. */
export function helperId(name: string): number | undefined {
  const i = NAMES.indexOf(name.startsWith('bpf_') ? name.slice(4) : name);
  return i < 0 ? undefined : i;
}
