// Kernel text of the modeled 5.10.223 kernel: the symbol table (name -> address) and the x86
// bytes the harness writes at those addresses. The addresses of the symbols the reference
// guest's kallsyms lists are that guest's (programs/expected/5.10.223/kallsyms.txt, booted with
// nokaslr), so JIT images reach them with the same rel32 arithmetic as on the real kernel; the
// few functions that list does not show get addresses of tailjit's choosing in a page of their
// own. Everything is in the top 2 GiB, as the JIT's rel32 calls require (tailcalls.md §3.4).
//
// The thunks are real x86, hand-encoded (bytes in the comments):
// - `__x86_indirect_thunk_{rcx,rdx}`: the retpoline of arch/x86/lib/retpoline.S;
// - `srso_alias_return_thunk`: the SRSO "safe RET" pair of arch/x86/lib/retpoline.S (5.10.223
//   backport), `call srso_alias_safe_ret; ud2` and `lea rsp,[rsp+8]; ret; int3`;
// - helper stubs: `nop; ret`, the work done by a code hook on the nop (emu/kernel/helpers.ts);
// - the entry stub: `call __x86_indirect_thunk_rdx; hlt`, what bpf_dispatcher_nop_func does
//   with `bpf_func` in rdx, in a loop of `repeat` calls as bpf_test_run() makes them (the run
//   stops at the final hlt's address before executing it).

/** Kernel text symbols of the reference guest (kallsyms, nokaslr). */
export const KALLSYMS = Object.freeze({
  ex_handler_bpf: 0xffffffff81079f40n,
  bpf_trace_printk: 0xffffffff8119f470n,
  __bpf_call_base: 0xffffffff811ae060n,
  bpf_user_rnd_u32: 0xffffffff811b4280n,
  bpf_map_lookup_elem: 0xffffffff811d00b0n,
  bpf_map_update_elem: 0xffffffff811d00d0n,
  bpf_map_delete_elem: 0xffffffff811d00f0n,
  bpf_get_smp_processor_id: 0xffffffff811d0170n,
  bpf_get_numa_node_id: 0xffffffff811d0190n,
  bpf_jiffies64: 0xffffffff811d01b0n,
  bpf_get_current_pid_tgid: 0xffffffff811d02b0n,
  bpf_ktime_get_ns: 0xffffffff811d0360n,
  bpf_ktime_get_boot_ns: 0xffffffff811d0370n,
  bpf_spin_unlock: 0xffffffff811d0860n,
  bpf_spin_lock: 0xffffffff811d0880n,
  bpf_skb_load_helper_8_no_cache: 0xffffffff816f3c70n,
  bpf_skb_load_helper_16_no_cache: 0xffffffff816f3da0n,
  bpf_skb_load_helper_32_no_cache: 0xffffffff816f3ee0n,
  bpf_sk_release: 0xffffffff816f8d10n,
  bpf_sk_lookup_tcp: 0xffffffff816f9b60n,
  srso_alias_safe_ret: 0xffffffff81b04104n,
  __x86_indirect_thunk_rcx: 0xffffffff81c01e00n,
  __x86_indirect_thunk_rdx: 0xffffffff81c01e20n,
  srso_alias_return_thunk: 0xffffffff81c02000n,
  __x86_return_thunk: 0xffffffff81c02140n,
} as const);

/**
 * Functions the reference kallsyms does not show (static functions of kernel/bpf/*.c that the
 * verifier's rewrites call directly, and tailjit's own entry stub): one page of tailjit's
 * choosing, 64 bytes apart.
 */
export const TAILJIT_TEXT_BASE = 0xffffffff81e00000n;
const TAILJIT_SYMBOL_NAMES = [
  'tailjit_test_run',
  '__htab_map_lookup_elem', 'htab_map_update_elem', 'htab_map_delete_elem',
  'array_map_update_elem', 'array_map_delete_elem',
  'tailjit_helper_5_unwind',
  'tailjit_bpf_tail_call',
  'bpf_tc_sk_lookup_tcp', // not in 5.10: 6.1's tc programs call it
] as const;
export const TAILJIT_SYMBOLS: Readonly<Record<(typeof TAILJIT_SYMBOL_NAMES)[number], bigint>> = Object.freeze(
  Object.fromEntries(TAILJIT_SYMBOL_NAMES.map((n, i) => [n, TAILJIT_TEXT_BASE + 0x40n * BigInt(i)])) as Record<(typeof TAILJIT_SYMBOL_NAMES)[number], bigint>,
);

export const ALL_SYMBOLS: ReadonlyMap<string, bigint> = new Map<string, bigint>([
  ...Object.entries(KALLSYMS), ...Object.entries(TAILJIT_SYMBOLS),
]);

// --- x86 bytes ---------------------------------------------------------------------------------

const NOP = 0x90;
const RET = 0xc3;
const INT3 = 0xcc;

/** x86 register numbers for ModRM. */
const X86 = { rcx: 1, rdx: 2 } as const;

function rel32(from: bigint, to: bigint): number[] {
  const d = to - from;
  if (d < -(1n << 31n) || d >= 1n << 31n) throw new RangeError(`rel32 from 0x${from.toString(16)} to 0x${to.toString(16)} out of range`);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, Number(d), true);
  return [...b];
}

/**
 * The retpoline `__x86_indirect_thunk_<reg>`:
 *   e8 07 00 00 00   call .Ldo_rop          (pushes the address of the speculation trap)
 *   f3 90            .Lspec_trap: pause
 *   0f ae e8         lfence
 *   eb f9            jmp .Lspec_trap
 *   48 89 XX 24      .Ldo_rop: mov [rsp],<reg>   (replaces that return address by the target)
 *   c3               ret                      (jumps to <reg> with the caller's stack)
 */
export function retpoline(reg: keyof typeof X86): Uint8Array {
  return Uint8Array.from([0xe8, 0x07, 0, 0, 0, 0xf3, 0x90, 0x0f, 0xae, 0xe8, 0xeb, 0xf9, 0x48, 0x89, 0x04 | (X86[reg] << 3), 0x24, RET]);
}

/** `srso_alias_safe_ret`: 48 8d 64 24 08 lea rsp,[rsp+8]; c3 ret; cc int3. */
export const SRSO_SAFE_RET = Uint8Array.from([0x48, 0x8d, 0x64, 0x24, 0x08, RET, INT3]);

/** `srso_alias_return_thunk` at `at`: e8 rel32 call srso_alias_safe_ret; 0f 0b ud2. */
export function srsoReturnThunk(at: bigint, safeRet: bigint): Uint8Array {
  return Uint8Array.from([0xe8, ...rel32(at + 5n, safeRet), 0x0f, 0x0b]);
}

/** `__x86_return_thunk` (the plain one): c3 ret; cc int3. */
export const PLAIN_RETURN_THUNK = Uint8Array.from([RET, INT3]);

/** A helper's stub: 90 nop (its code hook does the work); c3 ret. */
export const HELPER_STUB = Uint8Array.from([NOP, RET]);

/** Offsets in the entry stub: after each call returns, and the stop address. */
export const ENTRY_STUB = Object.freeze({ afterCall: 24, stop: 34, frame: 32 });

/**
 * The entry stub at `at`, with rdi = ctx, rsi = insnsi, rdx = bpf_func, rcx = repeat:
 *    0  57                push rdi                 the arguments, kept for every repetition
 *    1  56                push rsi
 *    2  52                push rdx
 *    3  51                push rcx                 [rsp] counts the repetitions down
 *    4  48 8b 7c 24 18    mov rdi, [rsp+0x18]      .loop
 *    9  48 8b 74 24 10    mov rsi, [rsp+0x10]
 *   14  48 8b 54 24 08    mov rdx, [rsp+0x08]
 *   19  e8 rel32          call __x86_indirect_thunk_rdx
 *   24  48 ff 0c 24       dec qword [rsp]          (one repetition done: eax is its retval)
 *   28  75 e6             jnz .loop
 *   30  48 83 c4 20       add rsp, 0x20
 *   34  f4                hlt                      the stop address
 */
export function entryStub(at: bigint, thunkRdx: bigint): Uint8Array {
  return Uint8Array.from([
    0x57, 0x56, 0x52, 0x51,
    0x48, 0x8b, 0x7c, 0x24, 0x18, 0x48, 0x8b, 0x74, 0x24, 0x10, 0x48, 0x8b, 0x54, 0x24, 0x08,
    0xe8, ...rel32(at + 24n, thunkRdx),
    0x48, 0xff, 0x0c, 0x24, 0x75, 0xe6, 0x48, 0x83, 0xc4, 0x20, 0xf4,
  ]);
}

/** Filler of unused kernel text: int3, so a jump into it traps at once. */
export const TEXT_FILL = INT3;
