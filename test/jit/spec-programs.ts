// The complete programs of the specs' worked examples, as VerifiedProgram fixtures:
// x86-jit.md Appendix A and tailcalls.md §10.1 (instructions read off their annotated tables).
import { REF_SYMBOLS, ldImm64, mk, program, single } from './fixtures.js';

export const APPENDIX_A_IMAGE = 0xffffffffc00091d8n;
// bpf_get_prandom_u32 at 0xffffffff811b4280 is helper imm 25120 (the spec). The spec does not
// name bpf_ktime_get_ns's address; 0xffffffff811d0360 is what kvm-oracle's 5.10.223 kallsyms
// gives (oracle/expected-5.10.223/kallsyms.txt), and what the call's rel32 at 0x49 implies.
const PRANDOM = 25120;
const KTIME = Number(0xffffffff811d0360n - REF_SYMBOLS.bpfCallBase);

const call = (imm: number) => mk(0x85, 0, 0, 0, imm);
const mov64 = (d: number, s: number) => mk(0xbf, d, s);
const movK = (d: number, k: number) => mk(0xb7, d, 0, 0, k);
const exit = mk(0x95);

const APPENDIX_A_INSNS = [
  call(PRANDOM), mov64(6, 0), call(PRANDOM), mov64(7, 0), call(PRANDOM), mov64(8, 0), call(PRANDOM), mov64(9, 0),
  mov64(1, 6), mov64(2, 7), mov64(3, 8), mov64(4, 9), mov64(5, 6), mov64(0, 7),
  call(PRANDOM), call(KTIME),
  mk(0x25, 6, 0, 2, 5), // if r6 > 5 goto +2
  movK(0, 1), exit,
  mk(0x15, 7, 0, 2, 7), // if r7 == 7 goto +2
  movK(0, 2), exit,
  movK(0, 3), movK(0, 0), exit,
];

export const APPENDIX_A = single(APPENDIX_A_INSNS);

// Image addresses the spec does not state, read back from its bytes: entry's from its
// return-thunk rel32 (thunk at 0xffffffff81c02000), sub's from entry's call rel32 (entry + 0x1b9c),
// once_prog's from site 2's rel32. Everything else (in particular sub's own return rel32) is then
// an independent check.
export const ENTRY = 0xffffffffc0010bd8n;
export const SUB = ENTRY + 0x1b9cn;
export const ONCE_PROG = 0xffffffffc0008f24n;

const CNT_MAIN = 0xffffc900000ae004n;
const CNT_BACK = 0xffffc900000ae008n;
const CNT_CALLS = 0xffffc900000ae00cn;
const CNT_REFUSED = 0xffffc900000ae010n;
const PROG_ARRAY = 0xffff88803fef4200n;

const ldxw = (d: number, s: number) => mk(0x61, d, s, 0);
const stxw = (d: number, s: number) => mk(0x63, d, s, 0);
const add1 = (d: number) => mk(0x07, d, 0, 0, 1);
const callLocal = (imm: number) => mk(0x85, 0, 1, 0, imm);

// entry: slots 0..20
const ENTRY_INSNS = [
  mov64(6, 1), ldImm64(1, CNT_MAIN), ldxw(2, 1), add1(2), stxw(1, 2), mov64(1, 6),
  callLocal(21 - 7 - 1), // slot 7 -> sub at slot 21
  mov64(7, 0), ldImm64(8, CNT_BACK), ldxw(1, 8), add1(1), stxw(8, 1), mov64(1, 6),
  callLocal(21 - 15 - 1), // slot 15
  ldxw(1, 8), add1(1), stxw(8, 1), mk(0x0f, 0, 7), exit,
];
// sub: slots 21..39
const SUB_INSNS = [
  mov64(6, 1), ldImm64(1, CNT_CALLS), ldxw(2, 1), add1(2), stxw(1, 2), ldImm64(7, PROG_ARRAY),
  mov64(1, 6), mov64(2, 7), mk(0xb7, 3, 0, 0, 0),
  mk(0xf5, 0, 0, 0, 1), // slot 32: direct tail call, poke 0
  ldImm64(1, CNT_REFUSED), ldxw(2, 1), add1(2), stxw(1, 2), mk(0xb7, 0, 0, 0, 1), exit,
];

export const SECTION_10_1 = program(
  [
    { insns: ENTRY_INSNS, name: 'entry', tailCallReachable: true },
    { insns: SUB_INSNS, name: 'sub' },
  ],
  [{ insnIdx: 32, mapIndex: 0, key: 0, func: 1 }],
);

