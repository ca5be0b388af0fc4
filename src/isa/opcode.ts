// The opcode byte of a BPF instruction, split into its fields (RFC 9669 §3, §4, §5).
//
//   ALU/JMP classes:          LD/ST classes:
//   +------+---+-----+        +------+------+-----+
//   | op:4 |s:1|cls:3|        |mode:3|size:2|cls:3|
//   +------+---+-----+        +------+------+-----+
//
// Values are the kernel's BPF_* constants, so an opcode is `cls | op | src` exactly as in
// include/uapi/linux/bpf.h.

export const Class = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;
export type Class = (typeof Class)[keyof typeof Class];

/** BPF_K: the operand is `imm`; BPF_X: the operand is `src`. For END, K = to-LE, X = to-BE. */
export const Source = { K: 0x00, X: 0x08 } as const;
export type Source = (typeof Source)[keyof typeof Source];

export const AluOp = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
  END: 0xd0,
} as const;
export type AluOp = (typeof AluOp)[keyof typeof AluOp];

export const JmpOp = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
} as const;
export type JmpOp = (typeof JmpOp)[keyof typeof JmpOp];

export const Mode = {
  IMM: 0x00,
  ABS: 0x20,
  IND: 0x40,
  MEM: 0x60,
  MEMSX: 0x80,
  ATOMIC: 0xc0,
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;
export type Size = (typeof Size)[keyof typeof Size];

/** Bytes accessed by each size field value. */
export function sizeBytes(size: number): 1 | 2 | 4 | 8 {
  switch (size & 0x18) {
    case Size.B: return 1;
    case Size.H: return 2;
    case Size.W: return 4;
    default: return 8;
  }
}

/** The `imm` of an atomic instruction (RFC 9669 §5.3). */
export const AtomicOp = {
  ADD: 0x00,
  OR: 0x40,
  AND: 0x50,
  XOR: 0xa0,
  FETCH: 0x01,
  XCHG: 0xe1,
  CMPXCHG: 0xf1,
} as const;

/** `src` of a CALL instruction. */
export const CallSrc = { HELPER: 0, LOCAL: 1, KFUNC: 2 } as const;

/** `src` of a wide `ld_imm64` (BPF_PSEUDO_*). */
export const PseudoSrc = {
  IMM: 0,
  MAP_FD: 1,
  MAP_VALUE: 2,
  BTF_ID: 3,
  FUNC: 4,
  MAP_IDX: 5,
  MAP_IDX_VALUE: 6,
} as const;

export const classOf = (code: number): number => code & 0x07;
export const srcOf = (code: number): number => code & 0x08;
export const opOf = (code: number): number => code & 0xf0;
export const modeOf = (code: number): number => code & 0xe0;
export const sizeOf = (code: number): number => code & 0x18;

export const isAluClass = (cls: number): boolean => cls === Class.ALU || cls === Class.ALU64;
export const isJmpClass = (cls: number): boolean => cls === Class.JMP || cls === Class.JMP32;

/** The wide-load opcode `BPF_LD | BPF_IMM | BPF_DW` (0x18), the only two-slot instruction. */
export const LD_IMM64 = Class.LD | Mode.IMM | Size.DW;

/** Number of registers; r10 is the read-only frame pointer. */
export const REG_COUNT = 11;
export const FP = 10;

/** Helper id of `bpf_tail_call`. */
export const BPF_FUNC_tail_call = 12;
