// Kernel behaviour that changed between releases, one frozen object per kernel. Code asks a
// profile a named question (`profile.tailCall.emptySlotCounts`) and never compares versions.
// Later layers (the verifier, the JIT, the harness) add their own sections here.

import type { Release } from '../isa/table.js';
import { TailjitError } from '../errors.js';

export interface TailCallSemantics {
  /** MAX_TAIL_CALL_CNT: tail calls allowed in one chain (33 on every profile here). */
  readonly limit: number;
  /**
   * 5.10/6.1: a bpf2bpf call copies the caller's count into the callee, whose tail calls never
   * update the caller's count. 6.12+: one counter per run shared through a pointer.
   */
  readonly counter: 'by-value' | 'shared';
  /** 5.10/6.1 increment before the slot is checked: a call into an empty slot still counts. */
  readonly emptySlotCounts: boolean;
}

/**
 * Choices the boot CPU makes for the x86-64 JIT (5.10 picks them at boot from CPU features).
 * The defaults in each profile are what kvm-oracle's guest (EPYC-Milan under TCG) gets.
 */
export interface JitCpu {
  /** `ideal_nops[NOP_ATOMIC5]` (tailcalls.md §1.3): prologue nop and both direct-tail-call sites. */
  readonly nop5: readonly number[];
  /**
   * Final jump of an indirect tail call (tailcalls.md §4.2): `thunk` = `e9` to
   * `__x86_indirect_thunk_rcx` (X86_FEATURE_RETPOLINE), `lfence` = `lfence; jmp rcx`
   * (RETPOLINE_LFENCE), `plain` = `jmp rcx` (`jit.plainJumpInt3` may add an int3),
   * `inline-retpoline` = the 17-byte sequence of 5.10.0-5.10.132 kernels built with CONFIG_RETPOLINE.
   */
  readonly indirectJump: 'thunk' | 'lfence' | 'plain' | 'inline-retpoline';
  /** The return after `leave` (x86-jit.md §6.4): `e9` to the return thunk, `c3`, or `c3 cc` (CONFIG_SLS). */
  readonly ret: 'thunk' | 'ret' | 'ret-int3';
  /** X86_FEATURE_XMM2: BPF_NOSPEC becomes `lfence`, else nothing (x86-jit.md §4.6). */
  readonly sse2: boolean;
  /**
   * X86_FEATURE_BMI2: with `jit.shiftx`, a shift by a register other than r4 is one
   * shlx/shrx/sarx. The 6.18.44 host has it (AMD family 0x1a); the EPYC-Milan guest's 5.10.223
   * and 6.1.192 images never show shlx, so those profiles say no.
   */
  readonly bmi2: boolean;
}

/** Release-dependent facts of the x86-64 JIT (x86-jit.md, tailcalls.md). */
export interface JitProfile {
  /**
   * MUL: `mul` = 5.10's one-operand `mul r11` with rax/rdx saved around it (x86-jit.md §3.7);
   * `imul` = `imul dst, src` / `imul dst, dst, imm` (6.1, §8).
   */
  readonly mul: 'mul' | 'imul';
  /**
   * DIV/MOD: `save-all` = 5.10's pushes of rax and rdx and a divide by r11 (§3.8);
   * `save-clobbered` = 6.1's: push only what dst does not hold, divide by src directly unless
   * it is r0 or r3 (§8).
   */
  readonly divMod: 'save-all' | 'save-clobbered';
  /** Largest displacement a jcc/jmp/EXIT jump encodes as rel8: 127, or 123 from 6.1.113 (`is_imm8_jmp_offset`). */
  readonly jmpRel8Max: number;
  /**
   * PADDING_PASSES: from this size pass (0-based) on, and in the extra pass, a jump that shrank
   * is padded with nops to its previous size (6.1). Null: never (5.10).
   */
  readonly jmpPaddingPass: number | null;
  /**
   * `with-insn0`: the prologue's bytes are flushed with instruction 0's (5.10);
   * `own-chunk`: copied first on their own, so instruction 0 starts at `proglen` = prologue (6.1).
   */
  readonly prologueChunk: 'with-insn0' | 'own-chunk';
  /** `imm` values of `BPF_STX | BPF_ATOMIC` the JIT has code for (5.10: BPF_ADD, the old XADD). */
  readonly atomicOps: readonly number[];
  /**
   * `emit_shiftx`: shifts by a register use BMI2 when `cpu.bmi2` (6.18; not in the 5.10 JIT, not
   * seen from 6.1.192). The same JIT shifts r4 by r4 as `shl rcx, cl`, without 5.10's detour via r11.
   */
  readonly shiftx: boolean;
  /**
   * `emit_mov_imm64` of a value that is not a u32 but fits an s32: the 7-byte sign-extending
   * `mov r64, simm32` (6.18.44 host, jit_alu) instead of the 10-byte movabs (5.10, 6.1.192).
   */
  readonly movImm64Simm32: boolean;
  /** A nop5 that does not depend on the CPU (6.1: `x86_nops[5]`); null: `cpu.nop5` decides (5.10). */
  readonly fixedNop5: readonly number[] | null;
  /**
   * `BPF_LDX | BPF_PROBE_MEM`: `plain` = the load with an extable entry (5.10, x86-jit.md §4.2);
   * `guarded` = 6.1's address check before it (§8), which src/jit does not model and refuses.
   */
  readonly probeMem: 'plain' | 'guarded';
  /**
   * The plain indirect jump (`cpu.indirectJump: 'plain'`) is followed by `int3`: 6.1 built with
   * CONFIG_RETPOLINE or CONFIG_SLS (the Debian build has both). 5.10: never.
   */
  readonly plainJumpInt3: boolean;
  /** Mnemonics of forms backported to this release before the ISA table's first release (6.1.y: `ja32`). */
  readonly backports: readonly string[];
  /** MAX_TAIL_CALL_CNT as the JIT's `cmp eax, imm8` holds it (32 in 5.10, 33 from 5.17). */
  readonly maxTailCallCnt: number;
  /** The jcc after that compare: 5.10 `ja` (counter > 32 fails), later `jae`. */
  readonly tailCallCntJcc: 'ja' | 'jae';
  /**
   * The prologue's filler at offset 5: `reachableMain` for a tail-call-reachable main function
   * (zeroes the counter), `other` keeps the layout (5.10/6.1: `31 c0` / `66 90`; 6.12+:
   * `48 31 c0` / `0f 1f 00`, tailcalls.md §9.2).
   */
  readonly prologueFill: { readonly reachableMain: readonly number[]; readonly other: readonly number[] };
  /** X86_TAIL_CALL_OFFSET: a tail call enters the target at `bpf_func + this`. */
  readonly tailCallOffset: number;
  /**
   * Where the JIT keeps the tail-call counter (tailcalls.md §1.5, §9.2): `slot` = a 32-bit count in
   * each frame's slot at [rbp-SDr-8], copied through rax into callees and tail-call targets
   * (5.10, 6.1); `tcc-ptr` = "bpf, x64: Fix tailcall hierarchy" (6.12+): one 64-bit counter per
   * run, each frame holding a pointer to it at [rbp-SDr-16], incremented only when the slot is
   * populated.
   */
  readonly tailCallCounter: 'slot' | 'tcc-ptr';
  /** Calls before which a tail-call-reachable function loads rax from its slot: `every-call` (5.10, 6.1) or only bpf2bpf calls (6.18). */
  readonly tailCallCntLoad: 'every-call' | 'bpf2bpf-call';
  /** Struct offsets of the build (tailcalls.md §4.3). */
  readonly offsets: {
    /** `struct bpf_array`, `map.max_entries` (u32). */
    readonly mapMaxEntries: number;
    /** `struct bpf_array`, `ptrs[]`. */
    readonly arrayPtrs: number;
    /** `struct bpf_prog`, `bpf_func`. */
    readonly progBpfFunc: number;
  };
  /**
   * The kernel's hand-counted tail-call bail-out distances before the pops (P), the
   * `add rsp` (7 when the stack is not empty) and the indirect jump (J) are added
   * (tailcalls.md §4.1, §5.1). The JIT measures its own sequences and checks them against these.
   */
  readonly tailCallBailout: {
    readonly indirectBounds: number;
    readonly indirectCount: number;
    readonly indirectEmpty: number;
    readonly directCount: number;
  };
  /** Size passes before the JIT gives up (the image pass comes on top). */
  readonly maxPasses: number;
  /** Opcodes `do_jit` has a case for (x86-jit.md Appendix B); anything else is refused. */
  readonly opcodes: readonly number[];
  readonly cpu: JitCpu;
}

/** `struct sk_buff` (and what it points to) as a converted `__sk_buff` access reads it. */
export interface SkbLayout {
  readonly dev: number;
  readonly cb: number;
  /** qdisc_skb_cb in cb[]: pkt_len, tc_classid, data[]; bpf_skb_data_end.data_end. */
  readonly cbPktLen: number;
  readonly cbTcClassid: number;
  readonly cbData: number;
  readonly cbDataEnd: number;
  readonly len: number;
  readonly queueMapping: number;
  readonly pktType: number;
  /** The byte of the vlan_present bit (`bit`, 5.10/6.1), or `vlan_all`, tested for non-zero (`vlan-all`, 6.18). */
  readonly vlanPresent: number;
  readonly vlanPresentForm: 'bit' | 'vlan-all';
  readonly tcIndex: number;
  readonly priority: number;
  readonly ingressIfindex: number;
  readonly hash: number;
  readonly vlanProto: number;
  readonly vlanTci: number;
  readonly napiId: number;
  readonly mark: number;
  readonly protocol: number;
  readonly end: number;
  readonly head: number;
  readonly data: number;
  /** `struct net_device`, ifindex. */
  readonly devIfindex: number;
  /** `struct skb_shared_info`, gso_size and gso_segs. */
  readonly shinfoGsoSize: number;
  readonly shinfoGsoSegs: number;
  /** MIN_NAPI_ID = NR_CPUS + 1. */
  readonly minNapiId: number;
}

/** `struct xdp_buff` and `struct xdp_rxq_info` as a converted `xdp_md` access reads them. */
export interface XdpLayout {
  readonly data: number;
  readonly dataEnd: number;
  readonly dataMeta: number;
  readonly rxq: number;
  readonly rxqDev: number;
  readonly rxqQueueIndex: number;
}

/** Limits and rules of the verifier (src/verifier) that differ between kernels. */
export interface VerifierRules {
  /** BPF_MAX_SUBPROGS, the main function included. */
  readonly maxSubprogs: number;
  /** MAX_CALL_FRAMES. */
  readonly maxCallFrames: number;
  /** MAX_BPF_STACK: the combined stack of one call path. */
  readonly maxStack: number;
  /**
   * Granularity of each frame in check_max_stack_depth(): 32 in 5.10 (the interpreter's);
   * later kernels use 16 for JIT-ed programs.
   */
  readonly frameRounding: number;
  /**
   * What a stack access makes of the function's recorded `stack_depth`: the deepest byte
   * (1, 5.10: "stack depth 1+4") or that rounded up to 8 (6.1.192 and the 6.18 host report
   * "8+8" for the same program, tailcall_bpf2bpf6). The JIT's frame is round_up(depth, 8) either way.
   */
  readonly stackDepthGranularity: number;
  /** A tail-calling subprogram needs its callers' frames below this many bytes. */
  readonly tailCallCallerStackLimit: number;
  /** What the verifier says when tail calls and bpf2bpf calls meet outside the x86-64 JIT. */
  readonly mixingMessage: string;
  /** Poke descriptors per program. */
  readonly maxPokes: number;
  /** `xadd`: 5.10's BPF_XADD, imm 0 only; `bpf-atomic`: 5.12's check_atomic() (fetch, xchg, cmpxchg). */
  readonly atomics: 'xadd' | 'bpf-atomic';
  /**
   * cpu v4 (6.6): movsx, sdiv/smod (with do_misc_fixups' 0 and -1 guards), bswap, sign-extending
   * loads and gotol are instructions; load-acquire / store-release (6.15) too. False: the 5.10
   * checks refuse them (5.10, 6.1).
   */
  readonly cpuV4: boolean;
  /**
   * JMP32 | JA (gotol, offset in imm, off must be 0) is an instruction: cpu v4's, and a 6.1.y
   * backport (6.1.192 runs programs/isa/gotol and refuses off != 0 with "BPF_JA uses reserved
   * fields", programs/isa/expected/6.1.192/).
   */
  readonly gotol: boolean;
  /** How messages name a scalar register's type: `inv` (5.10), `scalar` (6.1). */
  readonly scalarName: 'inv' | 'scalar';
  /**
   * A bpf_tail_call reached in a subprogram is also explored as taken: the subprogram exits
   * to its caller with r0 an unknown scalar (the tail-called program's), r6-r9 and the stack
   * as they were. False (5.10, 6.1): only the fall-through is explored, so the caller sees the
   * subprogram's own r0 and code that is dead for it is removed (test/fuzz/found/tail_dead_code,
   * test/verifier/fixtures/tail_exit).
   */
  readonly tailCallExitsSubprog: boolean;
  /** Structure offsets of the modeled build that convert_ctx_accesses() writes into loads. */
  readonly ctx: { readonly skb: SkbLayout; readonly xdp: XdpLayout };
}

export interface Profile {
  readonly name: ProfileName;
  /** The release it models, for checks of what an instruction needs. */
  readonly release: Release;
  /** As a kernel reports it, for result documents. */
  readonly releaseString: string;
  readonly tailCall: TailCallSemantics;
  readonly jit: JitProfile;
  readonly verifier: VerifierRules;
  /**
   * How the `expected/` folders holding this kernel's answers begin: `5.10.` (kvm-oracle's
   * `5.10.223`), `host-6.18.` (koracle on a 6.18 host, `host-<uname -r>`).
   */
  readonly goldenFolder: string;
}

export type ProfileName = 'linux-5.10' | 'linux-6.1' | 'linux-6.18';

/** x86-jit.md Appendix B: every opcode 5.10's do_jit has a case for. */
const OPCODES_5_10: readonly number[] = Object.freeze([
  0x0f, 0x1f, 0x5f, 0x4f, 0xaf, 0x0c, 0x1c, 0x5c, 0x4c, 0xac, // ADD SUB AND OR XOR, X
  0x07, 0x17, 0x57, 0x47, 0xa7, 0x04, 0x14, 0x54, 0x44, 0xa4, // ADD SUB AND OR XOR, K
  0xbf, 0xbc, 0xb7, 0xb4, // MOV
  0x18, // LD_IMM64
  0x87, 0x84, // NEG
  0x2f, 0x2c, 0x27, 0x24, // MUL
  0x3f, 0x3c, 0x37, 0x34, 0x9f, 0x9c, 0x97, 0x94, // DIV MOD
  0x67, 0x77, 0xc7, 0x64, 0x74, 0xc4, // shifts by K
  0x6f, 0x7f, 0xcf, 0x6c, 0x7c, 0xcc, // shifts by X
  0xd4, 0xdc, // END
  0x71, 0x69, 0x61, 0x79, // LDX MEM
  0x31, 0x29, 0x21, 0x39, // LDX PROBE_MEM
  0x73, 0x6b, 0x63, 0x7b, // STX MEM
  0x72, 0x6a, 0x62, 0x7a, // ST MEM
  0xc3, 0xdb, // XADD
  0xc2, // ST NOSPEC
  0x1d, 0x2d, 0x3d, 0x4d, 0x5d, 0x6d, 0x7d, 0xad, 0xbd, 0xcd, 0xdd, // JMP, X
  0x1e, 0x2e, 0x3e, 0x4e, 0x5e, 0x6e, 0x7e, 0xae, 0xbe, 0xce, 0xde, // JMP32, X
  0x15, 0x25, 0x35, 0x45, 0x55, 0x65, 0x75, 0xa5, 0xb5, 0xc5, 0xd5, // JMP, K
  0x16, 0x26, 0x36, 0x46, 0x56, 0x66, 0x76, 0xa6, 0xb6, 0xc6, 0xd6, // JMP32, K
  0x05, 0x85, 0xf5, 0x95, // JA CALL TAIL_CALL EXIT
]);

/**
 * 6.1's do_jit: 5.10's cases plus BPF_STX | BPF_ATOMIC (same opcodes c3/db as XADD, more `imm`
 * values, see `atomicOps`) and JMP32 | JA (`gotol`, backported to 6.1.y, x86-jit.md §8).
 */
const OPCODES_6_1: readonly number[] = Object.freeze([...OPCODES_5_10, 0x06]);

/**
 * 6.18's do_jit: 6.1's cases plus the cpu v4 ones with opcodes of their own (6.6): BPF_ALU64 |
 * BPF_END (bswap, d7) and BPF_LDX | BPF_MEMSX (91 89 81), and BPF_STX | BPF_ATOMIC of bytes and
 * halves (d3 cb: load-acquire and store-release, 6.15). movsx and sdiv/smod share MOV's and
 * DIV's opcodes (`off` tells).
 */
const OPCODES_6_18: readonly number[] = Object.freeze([...OPCODES_6_1, 0xd7, 0x91, 0x89, 0x81, 0xd3, 0xcb]);

const P6_NOP5: readonly number[] = Object.freeze([0x0f, 0x1f, 0x44, 0x00, 0x00]);

/** BPF_ADD, the only atomic of 5.10 (its XADD). */
const ATOMICS_5_10: readonly number[] = Object.freeze([0x00]);
/** 5.12's set: add/or/and/xor, their fetching forms, xchg, cmpxchg. */
const ATOMICS_5_12: readonly number[] = Object.freeze([0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1]);
/** With BPF_LOAD_ACQ (0x100) and BPF_STORE_REL (0x110) of 6.15. */
const ATOMICS_6_15: readonly number[] = Object.freeze([...ATOMICS_5_12, 0x100, 0x110]);

/**
 * The Debian 5.10.223 cloud build (linux-image-5.10.0-32-cloud-amd64), read from its xlated dumps
 * of test/verifier/fixtures/ctx_fields.bpf.o (expected-5.10.223/ctx_fields.json).
 */
const CTX_5_10: VerifierRules['ctx'] = Object.freeze({
  skb: Object.freeze({
    dev: 16, cb: 40, cbPktLen: 40, cbTcClassid: 46, cbData: 48, cbDataEnd: 80, len: 112, queueMapping: 124, pktType: 128,
    vlanPresent: 130, vlanPresentForm: 'bit', tcIndex: 132, priority: 140, ingressIfindex: 144, hash: 148, vlanProto: 152, vlanTci: 154, napiId: 156,
    mark: 164, protocol: 176, end: 188, head: 192, data: 200, devIfindex: 256, shinfoGsoSize: 4, shinfoGsoSegs: 6, minNapiId: 8193,
  }),
  xdp: Object.freeze({ data: 0, dataEnd: 8, dataMeta: 16, rxq: 32, rxqDev: 0, rxqQueueIndex: 8 }),
});

/**
 * The Debian 6.1.192 cloud build (linux-image-6.1.0-56-cloud-amd64), from the same program's
 * dumps (test/verifier/fixtures/expected-6.1.192/ctx_fields.json): tc_index, mark, protocol,
 * end, head, data and net_device.ifindex moved.
 */
const CTX_6_1: VerifierRules['ctx'] = Object.freeze({
  skb: Object.freeze({
    ...CTX_5_10.skb, tcIndex: 134, mark: 168, protocol: 180, end: 192, head: 200, data: 208, devIfindex: 216,
  }),
  xdp: CTX_5_10.xdp,
});

/**
 * The 6.18.44 host build, from its xlated dumps of the same program
 * (test/verifier/fixtures/expected-host-6.18.44-fc-v669/ctx_fields.json): 5.10's sk_buff offsets
 * but net_device.ifindex at 224, NR_CPUS 256 (MIN_NAPI_ID 257), and vlan_present read as
 * `vlan_all != 0` (the bit left sk_buff in 6.2).
 */
const CTX_6_18: VerifierRules['ctx'] = Object.freeze({
  skb: Object.freeze({ ...CTX_5_10.skb, devIfindex: 224, minNapiId: 257, vlanPresent: 152, vlanPresentForm: 'vlan-all' }),
  xdp: CTX_5_10.xdp,
});

const linux510: Profile = Object.freeze({
  name: 'linux-5.10',
  release: [5, 10] as const,
  releaseString: '5.10.223 (modeled)',
  goldenFolder: '5.10.',
  tailCall: Object.freeze({ limit: 33, counter: 'by-value', emptySlotCounts: true }),
  jit: Object.freeze({
    mul: 'mul',
    divMod: 'save-all',
    jmpRel8Max: 127,
    jmpPaddingPass: null,
    prologueChunk: 'with-insn0',
    atomicOps: ATOMICS_5_10,
    shiftx: false,
    movImm64Simm32: false,
    fixedNop5: null,
    probeMem: 'plain',
    plainJumpInt3: false,
    backports: Object.freeze([]),
    maxTailCallCnt: 32,
    tailCallCntJcc: 'ja',
    prologueFill: Object.freeze({ reachableMain: Object.freeze([0x31, 0xc0]), other: Object.freeze([0x66, 0x90]) }),
    tailCallOffset: 11,
    tailCallCounter: 'slot',
    tailCallCntLoad: 'every-call',
    offsets: Object.freeze({ mapMaxEntries: 0x24, arrayPtrs: 0x110, progBpfFunc: 0x30 }),
    tailCallBailout: Object.freeze({ indirectBounds: 42, indirectCount: 31, indirectEmpty: 9, directCount: 20 }),
    maxPasses: 20,
    opcodes: OPCODES_5_10,
    // EPYC-Milan (AMD family 0x19): P6 nop, retpolines, SRSO safe-RET return thunk.
    cpu: Object.freeze({ nop5: P6_NOP5, indirectJump: 'thunk', ret: 'thunk', sse2: true, bmi2: false }),
  }),
  verifier: Object.freeze({
    maxSubprogs: 256, maxCallFrames: 8, maxStack: 512, frameRounding: 32, stackDepthGranularity: 1, tailCallCallerStackLimit: 256,
    mixingMessage: 'tail_calls are not allowed in non-JITed programs with bpf-to-bpf calls', maxPokes: 1024,
    atomics: 'xadd',
    cpuV4: false,
    gotol: false,
    scalarName: 'inv',
    tailCallExitsSubprog: false,
    ctx: CTX_5_10,
  }),
});

const linux61: Profile = Object.freeze({
  name: 'linux-6.1',
  release: [6, 1] as const,
  releaseString: '6.1.192 (modeled)',
  goldenFolder: '6.1.',
  // By value, empty slots count, as 5.10; only the JIT's compare changed (tailcalls.md §9.1).
  tailCall: Object.freeze({ limit: 33, counter: 'by-value', emptySlotCounts: true }),
  jit: Object.freeze({
    mul: 'imul',
    divMod: 'save-clobbered',
    jmpRel8Max: 123,
    jmpPaddingPass: 15, // PADDING_PASSES = MAX_PASSES - 5
    prologueChunk: 'own-chunk',
    atomicOps: ATOMICS_5_12,
    shiftx: false,
    movImm64Simm32: false,
    fixedNop5: P6_NOP5,
    probeMem: 'guarded',
    plainJumpInt3: true, // RETPOLINE=y, SLS=y in meta.json
    // gotol (JMP32 | JA) is accepted by the 6.1.192 verifier and JIT (x86-jit.md §8).
    backports: Object.freeze(['ja32']),
    maxTailCallCnt: 33,
    tailCallCntJcc: 'jae',
    prologueFill: Object.freeze({ reachableMain: Object.freeze([0x31, 0xc0]), other: Object.freeze([0x66, 0x90]) }),
    tailCallOffset: 11, // no IBT in the Debian build (X86_KERNEL_IBT=n)
    tailCallCounter: 'slot',
    tailCallCntLoad: 'every-call',
    // Same struct layout as 5.10 (the 6.1.192 images read 0x24, 0x110, 0x30).
    offsets: Object.freeze({ mapMaxEntries: 0x24, arrayPtrs: 0x110, progBpfFunc: 0x30 }),
    // The sequences have 5.10's lengths (cmp/jae replace cmp/ja byte for byte).
    tailCallBailout: Object.freeze({ indirectBounds: 42, indirectCount: 31, indirectEmpty: 9, directCount: 20 }),
    maxPasses: 20,
    opcodes: OPCODES_6_1,
    // EPYC-Milan under 6.1.192 (programs/expected/6.1.192/meta.json): retpolines, SRSO safe-RET
    // return thunk (RETHUNK; CONFIG_SLS only matters for a plain ret).
    cpu: Object.freeze({ nop5: P6_NOP5, indirectJump: 'thunk', ret: 'thunk', sse2: true, bmi2: false }),
  }),
  // 5.10's limits and messages (the 6.1.192 rejections of programs/ and programs/selftests/ are
  // word for word 5.10's); depths are recorded in 8-byte steps.
  verifier: Object.freeze({
    maxSubprogs: 256, maxCallFrames: 8, maxStack: 512, frameRounding: 32, stackDepthGranularity: 8, tailCallCallerStackLimit: 256,
    mixingMessage: 'tail_calls are not allowed in non-JITed programs with bpf-to-bpf calls', maxPokes: 1024,
    atomics: 'bpf-atomic',
    cpuV4: false,
    gotol: true,
    scalarName: 'scalar',
    tailCallExitsSubprog: false,
    ctx: CTX_6_1,
  }),
});

const linux618: Profile = Object.freeze({
  name: 'linux-6.18',
  release: [6, 18] as const,
  releaseString: '6.18 (modeled)',
  // The modeled 6.18 is the host kernel koracle answered on (tailcalls.md §9.2).
  goldenFolder: 'host-6.18.',
  tailCall: Object.freeze({ limit: 33, counter: 'shared', emptySlotCounts: false }),
  // Offsets, entry, limit and the tcc_ptr sequences as the 6.18.44 host's images have them
  // (tailcalls.md §9.2, programs/selftests/expected/host-6.18.44-*).
  jit: Object.freeze({
    maxTailCallCnt: 33,
    tailCallCntJcc: 'jae',
    prologueFill: Object.freeze({ reachableMain: Object.freeze([0x48, 0x31, 0xc0]), other: Object.freeze([0x0f, 0x1f, 0x00]) }),
    tailCallOffset: 12,
    tailCallCounter: 'tcc-ptr',
    tailCallCntLoad: 'bpf2bpf-call',
    offsets: Object.freeze({ mapMaxEntries: 0x4c, arrayPtrs: 0x138, progBpfFunc: 0x48 }),
    // The kernel measures them in the previous pass; these are the host's jbe/jae/je/jae rel8
    // less P, add rsp and J (tailcall_bpf2bpf2: 0x30 / 0x23 / 0x16 with P 3, J 5;
    // tailcall_bpf2bpf_hierarchy1: 0x13 with P 3).
    tailCallBailout: Object.freeze({ indirectBounds: 40, indirectCount: 27, indirectEmpty: 14, directCount: 16 }),
    maxPasses: 20,
    opcodes: OPCODES_6_18,
    mul: 'imul',
    divMod: 'save-clobbered',
    jmpRel8Max: 123,
    jmpPaddingPass: 15,
    prologueChunk: 'own-chunk',
    atomicOps: ATOMICS_6_15,
    shiftx: true,
    movImm64Simm32: true,
    fixedNop5: P6_NOP5,
    probeMem: 'guarded',
    plainJumpInt3: true,
    backports: Object.freeze([]),
    cpu: Object.freeze({ nop5: P6_NOP5, indirectJump: 'thunk', ret: 'thunk', sse2: true, bmi2: true }),
  }),
  // Same limits; JIT-ed frames round to 16 (selftests.md §0.5) and the mixing message changed
  // (tailcalls.md §7.1). The verifier models 5.10's rewrites, plus cpu v4's
  // instructions and sdiv/smod's guards (programs/isa/expected/host-6.18.44-*).
  verifier: Object.freeze({
    maxSubprogs: 256, maxCallFrames: 8, maxStack: 512, frameRounding: 16, stackDepthGranularity: 8, tailCallCallerStackLimit: 256,
    mixingMessage: 'mixing of tail_calls and bpf-to-bpf calls is not supported', maxPokes: 1024,
    atomics: 'bpf-atomic',
    cpuV4: true,
    gotol: true,
    scalarName: 'scalar',
    // The 6.18.44 host keeps what is dead only for the subprogram's own r0 (tail_exit fixture).
    tailCallExitsSubprog: true,
    ctx: CTX_6_18,
  }),
});

export const PROFILES: Readonly<Record<ProfileName, Profile>> = Object.freeze({
  'linux-5.10': linux510,
  'linux-6.1': linux61,
  'linux-6.18': linux618,
});

export const DEFAULT_PROFILE: ProfileName = 'linux-5.10';

export function isProfileName(s: string): s is ProfileName {
  return Object.prototype.hasOwnProperty.call(PROFILES, s);
}

export function getProfile(name: string): Profile {
  if (!isProfileName(name)) {
    throw new TailjitError('profile.unknown', `unknown profile '${name}' (known: ${Object.keys(PROFILES).join(', ')})`);
  }
  return PROFILES[name];
}
