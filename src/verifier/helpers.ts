// What the verifier needs to know about helpers (facts from include/uapi/linux/bpf.h and the
// helpers' bpf_func_proto in 5.10): names for messages, which argument is a map, which
// return a map value pointer. Helpers not listed here are treated as returning an unknown
// scalar and taking no map.

export const HelperId = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  tail_call: 12,
  map_push_elem: 87,
  map_pop_elem: 88,
  map_peek_elem: 89,
  sk_lookup_tcp: 84,
  sk_lookup_udp: 85,
  sk_release: 86,
  spin_lock: 93,
  spin_unlock: 94,
  jiffies64: 118,
} as const;

/** Helpers returning a referenced socket or NULL (is_acquire_function(): RET_PTR_TO_SOCKET_OR_NULL). */
export const acquiresSocket = (id: number): boolean => id === HelperId.sk_lookup_tcp || id === HelperId.sk_lookup_udp;

/** func_id_name() for the ids of the first releases (enough for messages about them). */
const NAMES: readonly string[] = [
  'unspec', 'map_lookup_elem', 'map_update_elem', 'map_delete_elem', 'probe_read', 'ktime_get_ns',
  'trace_printk', 'get_prandom_u32', 'get_smp_processor_id', 'skb_store_bytes', 'l3_csum_replace',
  'l4_csum_replace', 'tail_call', 'clone_redirect', 'get_current_pid_tgid', 'get_current_uid_gid',
  'get_current_comm', 'get_cgroup_classid', 'skb_vlan_push', 'skb_vlan_pop', 'skb_get_tunnel_key',
  'skb_set_tunnel_key', 'perf_event_read', 'redirect', 'get_route_realm', 'perf_event_output',
  'skb_load_bytes', 'get_stackid', 'csum_diff',
];

/** __BPF_FUNC_MAX_ID of 5.10 (the last helper is bpf_redirect_peer, 155). */
export const FUNC_MAX_ID_5_10 = 156;

export function helperName(id: number): string {
  const n = NAMES[id];
  return n === undefined ? `#${id}` : `bpf_${n}`;
}

/** check_helper_call()'s message for a helper the program type lacks, or none exists. */
export function unknownHelperMessage(id: number): { message: string; notes: string[] } {
  if (id < 0 || id >= FUNC_MAX_ID_5_10) return { message: `invalid func unknown#${id}`, notes: [] };
  const n = NAMES[id];
  if (n !== undefined) return { message: `unknown func bpf_${n}#${id}`, notes: [] };
  return { message: `unknown func #${id}`, notes: ['the kernel names the helper here; this model has no name for this id'] };
}

/** The argument register that holds a `struct bpf_map *` (ARG_CONST_MAP_PTR), if any. */
export function mapArgRegister(id: number): number | undefined {
  switch (id) {
    case HelperId.map_lookup_elem:
    case HelperId.map_update_elem:
    case HelperId.map_delete_elem:
    case HelperId.map_push_elem:
    case HelperId.map_pop_elem:
    case HelperId.map_peek_elem:
    case 27: // get_stackid
    case 51: // redirect_map
      return 1;
    case HelperId.tail_call:
    case 22: // perf_event_read (r1), but 25 perf_event_output takes it in r2
      return id === 22 ? 1 : 2;
    case 25:
      return 2;
    default:
      return undefined;
  }
}

export const returnsMapValueOrNull = (id: number): boolean => id === HelperId.map_lookup_elem;

/** Helpers whose call fixup_bpf_calls() may redirect to the map's own operation. */
export const MAP_OP_HELPERS: ReadonlySet<number> = new Set([
  HelperId.map_lookup_elem, HelperId.map_update_elem, HelperId.map_delete_elem,
  HelperId.map_push_elem, HelperId.map_pop_elem, HelperId.map_peek_elem,
]);
