// The JIT's inputs besides the program and its outputs.

import type { JitCpu } from '../profile/index.js';

/**
 * Kernel text addresses the generated code reaches with rel32 (x86-jit.md §6, tailcalls.md §4.2).
 * The harness owns them; the JIT holds no addresses of its own.
 */
export interface KernelSymbols {
  /** `__bpf_call_base`: a CALL's target is `bpfCallBase + imm`. */
  readonly bpfCallBase: bigint;
  /** Where `x86_return_thunk` points (`srso_alias_return_thunk` on the reference CPU); needed for `ret: 'thunk'`. */
  readonly returnThunk?: bigint;
  /** `__x86_indirect_thunk_rcx`; needed for `indirectJump: 'thunk'`. */
  readonly indirectThunkRcx?: bigint;
  /** `ex_handler_bpf`; needed only when a function has PROBE_MEM loads. */
  readonly exHandlerBpf?: bigint;
}

/** What an image allocation is for. */
export interface ImageRequest {
  /** `VerifiedProgram.name`. */
  readonly prog: string;
  /** Function index (0 = main). */
  readonly func: number;
  /** The function's name. */
  readonly name: string;
  /** Bytes requested: `roundup(proglen, 4) + num_exentries * 12` (x86-jit.md §7.4). */
  readonly size: number;
}

/** Decides where function images live; must return 4-byte-aligned addresses. */
export type ImageAllocator = (request: ImageRequest) => bigint;

/** Where a tail-call slot's program is: its `bpf_func` (image start), or null for an empty slot. */
export type SlotTarget = (mapIndex: number, key: number) => bigint | null;

export interface JitOptions {
  readonly symbols: KernelSymbols;
  /** Default: `moduleAreaAllocator()`. */
  readonly images?: ImageAllocator;
  /** Prog-array contents at load time, for the direct-tail-call fix-up; default: every slot empty. */
  readonly slotTarget?: SlotTarget;
  /** Overrides of the profile's CPU-dependent choices. */
  readonly cpu?: Partial<JitCpu>;
}

/**
 * `addrs[]` in the kernel's convention (x86-jit.md §7.1), indexed by the function's own slot
 * numbers: `addrs[0]` is the prologue's length (where instruction 0's code starts);
 * `addrs[s + 1]` is the offset just after the instruction whose last slot is `s`, i.e. where the
 * next instruction starts; `addrs[len]` is the image length. The middle entry of an `ld_imm64`
 * (`addrs[s + 1]` for a wide load at slot `s`) is never written and keeps its first-pass
 * estimate `64 * (s + 2)`. A jump at slot `s` with offset `off` lands at `addrs[s + 1 + off]`.
 */
export type Addrs = Int32Array;

/** One PROBE_MEM exception-table entry (12 bytes at `address`, x86-jit.md §4.2). */
export interface ExtableEntry {
  readonly address: bigint;
  /** (address of the load) - (address of this field). */
  readonly insn: number;
  /** `len | (pt_regs offset of D) << 8`. */
  readonly fixup: number;
  /** (address of ex_handler_bpf) - (address of this field, at `address + 8`). */
  readonly handler: number;
}

export interface JitFunc {
  readonly index: number;
  readonly name: string;
  /** `bpf_func`: where the image starts. */
  readonly address: bigint;
  /** The JITed code (`jited_len` bytes), direct tail-call sites fixed up for the load-time slots. */
  readonly image: Uint8Array;
  readonly addrs: Addrs;
  /** Offset of the epilogue the first EXIT emitted (later EXITs jump there). */
  readonly cleanupAddr: number;
  /** Slot of the function's first instruction in the whole program. */
  readonly firstSlot: number;
  /** Function-relative slot of each instruction's first slot, in order. */
  readonly insnSlots: Int32Array;
  /** do_jit calls of the first compilation, as `bpf_jit_enable=2` counts them (`pass=`). */
  readonly passes: number;
  /** The length each of those passes returned. */
  readonly passLengths: readonly number[];
  /** True when the function got the extra pass of a multi-function program. */
  readonly extraPass: boolean;
  /** `R(f)`: the verifier's mark or a tail call of its own (tailcalls.md §1.2). */
  readonly tailCallReachable: boolean;
  /** Callee-saved registers the prologue pushes: r6, r7, r8, r9. */
  readonly calleeRegsUsed: readonly [boolean, boolean, boolean, boolean];
  readonly stackDepth: number;
  readonly extable: readonly ExtableEntry[];
}

/** A direct tail-call site (`struct bpf_jit_poke_descriptor`) as a freshly loaded program has it. */
export interface JitPoke {
  /** Site 2: nop5, or `jmp target + adjOff`. */
  readonly tailcallTarget: bigint;
  /** Site 1: `jmp bypassAddr`, or nop5. */
  readonly tailcallBypass: bigint;
  /** Where site 1 jumps: `tailcallTarget + 5`. */
  readonly bypassAddr: bigint;
  /** X86_TAIL_CALL_OFFSET. */
  readonly adjOff: number;
  /** `tailcall_target_stable`: set by the fix-up. */
  readonly stable: boolean;
  readonly mapIndex: number;
  readonly key: number;
  /** Owning function. */
  readonly func: number;
  /** Slot of the tail call in the whole program. */
  readonly insnIdx: number;
}

export interface JitResult {
  readonly funcs: readonly JitFunc[];
  /** In `VerifiedProgram.pokes` order. */
  readonly pokes: readonly JitPoke[];
  /** Every do_jit call made for the program, extra passes included. */
  readonly passes: number;
}
