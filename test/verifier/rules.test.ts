// One hand-built program per rule, each expecting the 5.10 verifier's exact log line
// (tailcalls.md §3.4, §7; x86-jit.md §4.5, §4.7; strings from kernel/bpf/verifier.c 5.10).

import { describe, expect, test } from 'vitest';
import * as h from './helpers.js';
import { AluOp, Class, JmpOp, Mode, Size, Source, insn, rejection } from './helpers.js';

const { mov64Imm, exit, callLocal, ja, jmpImm } = h;

interface Case {
  name: string;
  insns: ReturnType<typeof insn>[];
  maps?: Parameters<typeof h.run>[1];
  code: string;
  message: string;
  slot?: number;
  note?: RegExp;
}

const r0 = mov64Imm(0, 0);

const cases: Case[] = [
  {
    name: 'rejects bswap (cpu v4, ALU64|END) as an unknown opcode and names 6.6',
    insns: [r0, insn(Class.ALU64 | AluOp.END | Source.K, 0, 0, 0, 16), exit()],
    code: 'verifier.unknown-opcode', message: 'unknown opcode d7', slot: 1, note: /needs Linux 6\.6/,
  },
  {
    name: 'rejects gotol (JMP32|JA) as an unknown opcode',
    insns: [r0, insn(Class.JMP32 | JmpOp.JA, 0, 0, 0, 0), exit()],
    code: 'verifier.unknown-opcode', message: 'unknown opcode 06', slot: 1,
  },
  {
    name: 'rejects a sign-extending load (MEMSX) as reserved LDX fields',
    insns: [insn(Class.LDX | Mode.MEMSX | Size.W, 0, 1, 0), exit()],
    code: 'verifier.reserved-fields', message: 'BPF_LDX uses reserved fields', slot: 0, note: /6\.6/,
  },
  {
    name: 'rejects atomic fetch-add (imm 1) as reserved STX fields and names 5.12',
    insns: [r0, mov64Imm(2, 1), insn(Class.STX | Mode.ATOMIC | Size.DW, 10, 2, -8, 1), exit()],
    code: 'verifier.reserved-fields', message: 'BPF_STX uses reserved fields', slot: 2, note: /needs Linux 5\.12/,
  },
  {
    name: 'rejects ld_imm64 with BPF_PSEUDO_FUNC (5.13)',
    insns: [h.ldImm64(1, 0n, 4), r0, exit()],
    code: 'verifier.ld-imm64', message: 'unrecognized bpf_ld_imm64 insn', slot: 0, note: /5\.13/,
  },
  {
    name: 'rejects a map reference to a map the object lacks',
    insns: [h.ldMap(1, 3), r0, exit()],
    code: 'verifier.bad-map', message: 'fd 3 is not pointing to valid bpf_map', slot: 0,
  },
  {
    name: 'rejects signed division (off 1) as reserved ALU fields',
    insns: [mov64Imm(0, 6), mov64Imm(1, 2), insn(Class.ALU64 | AluOp.DIV | Source.X, 0, 1, 1), exit()],
    code: 'verifier.reserved-fields', message: 'BPF_ALU uses reserved fields', slot: 2,
  },
  {
    name: 'rejects movsx (off 8) as reserved MOV fields',
    insns: [mov64Imm(1, 2), insn(Class.ALU64 | AluOp.MOV | Source.X, 0, 1, 8), exit()],
    code: 'verifier.reserved-fields', message: 'BPF_MOV uses reserved fields', slot: 1,
  },
  {
    name: 'rejects a shift by 64',
    insns: [r0, h.alu64Imm(AluOp.LSH, 0, 64), exit()],
    code: 'verifier.invalid-shift', message: 'invalid shift 64', slot: 1,
  },
  {
    name: 'rejects division by the constant 0',
    insns: [r0, h.alu64Imm(AluOp.DIV, 0, 0), exit()],
    code: 'verifier.div-by-zero', message: 'div by zero', slot: 1,
  },
  {
    name: 'rejects a write to r10',
    insns: [mov64Imm(10, 0), r0, exit()],
    code: 'verifier.frame-pointer', message: 'frame pointer is read only', slot: 0,
  },
  {
    name: 'rejects reading a register nothing wrote',
    insns: [h.mov64Reg(0, 2), exit()],
    code: 'verifier.uninit-register', message: 'R2 !read_ok', slot: 0,
  },
  {
    name: 'rejects exit with r0 unset',
    insns: [exit()],
    code: 'verifier.uninit-register', message: 'R0 !read_ok', slot: 0,
  },
  {
    name: 'rejects a jump past the end',
    insns: [r0, jmpImm(JmpOp.JEQ, 0, 0, 5), exit()],
    code: 'verifier.jump-out-of-range', message: 'jump out of range from insn 1 to 7', slot: 1,
  },
  {
    name: 'rejects a jump from a subprogram into the main function',
    // main: call f; exit. f (slot 3): r0 = 0; ja -4 (to slot 1, in main)
    insns: [callLocal(1), exit(), r0, r0, ja(-4)],
    code: 'verifier.jump-out-of-range', message: 'jump out of range from insn 4 to 1', slot: 4,
  },
  {
    name: 'rejects a function that falls through into the next',
    insns: [callLocal(1), r0, r0, exit()],
    code: 'verifier.last-insn', message: 'last insn is not an exit or jmp', slot: 1,
  },
  {
    name: 'rejects a call before the start',
    insns: [callLocal(-5), r0, exit()],
    code: 'verifier.call-destination', message: 'call to invalid destination',
  },
  {
    name: 'rejects an instruction no path reaches',
    insns: [r0, exit(), r0, exit()],
    code: 'verifier.unreachable', message: 'unreachable insn 2', slot: 2,
  },
  {
    name: 'rejects recursion as a back-edge of the call',
    // main: call f (slot 2); exit. f: call f (itself); r0 = 0; exit
    insns: [callLocal(1), exit(), callLocal(-1), r0, exit()],
    code: 'verifier.back-edge', message: 'back-edge from insn 2 to 2', slot: 2,
  },
  {
    name: 'rejects a jump into the second half of an ld_imm64',
    // 0: r2 = skb->len; 1: if r2 == 0 goto +1 (slot 3, the second half); 2-3: r1 = 0 ll; 4-5: r0 = 0; exit
    insns: [h.ldx(Size.W, 2, 1, 0), jmpImm(JmpOp.JEQ, 2, 0, 1), h.ldImm64(1, 0n), r0, exit()],
    code: 'verifier.ld-imm64', message: 'invalid BPF_LD_IMM insn', slot: 3,
  },
  {
    name: 'rejects a kfunc call (src 2, 5.13) as reserved CALL fields',
    insns: [insn(Class.JMP | JmpOp.CALL, 0, 2, 0, 1), r0, exit()],
    code: 'verifier.reserved-fields', message: 'BPF_CALL uses reserved fields', slot: 0, note: /5\.13/,
  },
  {
    name: 'rejects an ALU64 opcode 0xe0 that no table has',
    insns: [r0, insn(Class.ALU64 | 0xe0 | Source.K, 0, 0, 0, 0), exit()],
    code: 'verifier.unknown-opcode', message: 'unknown opcode e7', slot: 1,
  },
];

describe('kernel rules with their exact messages', () => {
  test.each(cases)('$name', ({ insns, maps, code, message, slot, note }) => {
    const e = rejection(() => h.run(insns, maps ?? []));
    expect(e.code).toBe(code);
    expect(e.kernelMessage).toBe(message);
    if (slot !== undefined) expect(e.slot).toBe(slot);
    if (note) expect(e.notes.join('\n')).toMatch(note);
  });
});

describe('subprogram limits', () => {
  test('rejects 257 functions (BPF_MAX_SUBPROGS = 256, the main one included)', () => {
    // main calls functions 1..256 in turn; each is `r0 = 0; exit`.
    // Call i sits at slot i; function i starts at n + 2 + 2i, so rel = n + 1 + i.
    const n = 256;
    const main: ReturnType<typeof insn>[] = [];
    for (let i = 0; i < n; i++) main.push(callLocal(n + 1 + i));
    main.push(mov64Imm(0, 0), exit());
    const funcs: ReturnType<typeof insn>[] = [];
    for (let i = 0; i < n; i++) funcs.push(mov64Imm(0, 0), exit());
    const e = rejection(() => h.run([...main, ...funcs]));
    expect(e.kernelMessage).toBe('too many subprograms');
    expect(e.code).toBe('verifier.too-many-subprogs');
  });

  test('accepts 256 functions', () => {
    const n = 255;
    const main: ReturnType<typeof insn>[] = [];
    for (let i = 0; i < n; i++) main.push(callLocal(n + 1 + i));
    main.push(mov64Imm(0, 0), exit());
    const funcs: ReturnType<typeof insn>[] = [];
    for (let i = 0; i < n; i++) funcs.push(mov64Imm(0, 0), exit());
    expect(h.run([...main, ...funcs]).funcs).toHaveLength(256);
  });
});

describe('func_info against the layout (check_btf_func)', () => {
  const prog = [callLocal(1), exit(), mov64Imm(0, 0), exit()];
  test('rejects one record for two functions', () => {
    const e = rejection(() => h.run(prog, [], { funcs: [['main', 0]] }));
    expect(e.kernelMessage).toBe("number of funcs in func_info doesn't match number of subprogs");
  });
  test('rejects a first record that is not at insn 0', () => {
    const e = rejection(() => h.run(prog, [], { funcs: [['main', 1], ['f', 2]] }));
    expect(e.kernelMessage).toBe('nonzero insn_off 1 for the first func info record');
  });
  test('rejects a record away from a function start', () => {
    const e = rejection(() => h.run(prog, [], { funcs: [['main', 0], ['f', 3]] }));
    expect(e.kernelMessage).toBe("func_info BTF section doesn't match subprog layout in BPF program");
  });
  test('names the functions after their records', () => {
    expect(h.run(prog, [], { funcs: [['main', 0], ['f', 2]] }).funcs.map((f) => f.name)).toEqual(['main', 'f']);
  });
  test('rejects a tail call in a subprogram without BTF (check_abnormal_return)', () => {
    const e = rejection(() => h.run([callLocal(1), exit(), h.ldMap(2, 0), mov64Imm(3, 0), h.call(12), mov64Imm(0, 0), exit()], [h.progArray('pa', 1)]));
    expect(e.kernelMessage).toBe('tail_call is not allowed in subprogs without BTF');
  });
});
