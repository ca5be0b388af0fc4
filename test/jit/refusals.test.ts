// What the 5.10 JIT refuses (x86-jit.md Appendix B, §4.5, §4.7, §5.4, §7.7, §8 "cpu v4"), and
// the malformed inputs that must end in a typed error, never a crash.
import { describe, expect, it } from 'vitest';
import { JitError, jitProgram } from '../../src/jit/index.js';
import { PROFILES } from '../../src/profile/index.js';
import { REF_SYMBOLS, hex, mk, program } from './fixtures.js';
import { EXIT, code1, jit1 } from './helpers.js';

describe('instructions 5.10 does not have', () => {
  it.each([
    ['lock or (BPF_ATOMIC)', mk(0xdb, 10, 1, -8, 0x40), '5.12'],
    ['lock fetch add', mk(0xc3, 10, 1, -8, 0x01), '5.12'],
    ['xchg', mk(0xdb, 10, 1, -8, 0xe1), '5.12'],
    ['cmpxchg', mk(0xdb, 10, 1, -8, 0xf1), '5.12'],
    ['sign-extending load (BPF_MEMSX)', mk(0x81, 0, 10, -8), '6.6'],
    ['movsx', mk(0xbf, 0, 1, 8), '6.6'],
    ['sdiv', mk(0x3f, 0, 1, 1), '6.6'],
    ['smod', mk(0x97, 0, 0, 1, 3), '6.6'],
    ['unconditional bswap (ALU64 END, d7)', mk(0xd7, 0, 0, 0, 16), '6.6'],
    ['gotol (JMP32 JA)', mk(0x06, 0, 0, 0, 0), '6.6'],
    ['kfunc call', mk(0x85, 0, 2, 0, 5), '5.13'],
  ])('%s is refused naming the release that added it', (_n, insn, release) => {
    const err = (() => { try { jit1([mk(0xb7, 0, 0, 0, 0), insn, EXIT]); } catch (e) { return e; } })() as JitError;
    expect(err).toBeInstanceOf(JitError);
    expect(err.code).toBe('jit.unsupported-insn');
    expect(err.location.insn).toBe(1);
    expect(err.func).toBe(0);
    expect(err.message).toContain(`Linux ${release}`);
    expect(err.message).toContain('linux-5.10');
  });

  it('callx is in no release at all', () => {
    expect(() => jit1([mk(0x8d, 1), EXIT])).toThrow(expect.objectContaining({ code: 'jit.unsupported-insn', message: expect.stringContaining('no Linux release') }));
  });

  it.each([
    ['LD_ABS (rewritten by the verifier, no JIT case)', mk(0x20, 0, 0, 0, 12)],
    ['LD_IND', mk(0x40, 0, 1, 0, 12)],
    ['an opcode that means nothing', mk(0xff)],
    ['the second slot of ld_imm64 as an opcode', mk(0x00)],
  ])('%s is an unknown opcode', (_n, insn) => {
    expect(() => jit1([insn, EXIT])).toThrow(expect.objectContaining({ code: 'jit.unknown-opcode', location: { insn: 0 } }));
  });

  it('an END with an impossible width is refused with the field at fault', () => {
    expect(() => jit1([mk(0xdc, 0, 0, 0, 8), EXIT])).toThrow(expect.objectContaining({ code: 'jit.unsupported-insn', field: 'imm' }));
  });

  it('registers beyond AX are refused', () => {
    expect(() => jit1([mk(0xbf, 12, 0), EXIT])).toThrow(expect.objectContaining({ code: 'jit.bad-register', field: 'dst' }));
    expect(() => jit1([mk(0xbf, 0, 13), EXIT])).toThrow(expect.objectContaining({ code: 'jit.bad-register', field: 'src' }));
  });

  it('BPF_REG_AX (x86 r10) is a register the JIT knows (§7.6)', () => {
    expect(hex(code1(mk(0x0f, 0, 11)))).toBe('4c01d0'); // add rax, r10
    expect(hex(code1(mk(0xb4, 11, 0, 0, 5)))).toBe('41ba05000000'); // mov r10d, 5
    expect(hex(code1(mk(0xb7, 11, 0, 0, -5)))).toBe('49c7c2fbffffff'); // mov r10, -5
    expect(hex(code1(mk(0x73, 10, 11, -8)))).toBe('448855f8'); // mov [rbp-8], r10b
  });
});

describe('malformed programs end in typed errors', () => {
  it('functions that do not tile the program', () => {
    const p = program([{ insns: [EXIT] }, { insns: [EXIT] }]);
    const bad = { ...p, funcs: [p.funcs[0], { ...p.funcs[1], start: 3, end: 4 }] };
    expect(() => jitProgram(bad, PROFILES['linux-5.10'], { symbols: REF_SYMBOLS })).toThrow(expect.objectContaining({ code: 'jit.bad-program' }));
    expect(() => jitProgram({ ...p, funcs: [] }, PROFILES['linux-5.10'], { symbols: REF_SYMBOLS })).toThrow(expect.objectContaining({ code: 'jit.bad-program' }));
  });
  it('a function boundary inside an ld_imm64', () => {
    const p = program([{ insns: [mk(0x18, 0, 0, 0, 1, 1), EXIT] }]);
    const bad = { ...p, funcs: [{ ...p.funcs[0], end: 1 }, { ...p.funcs[0], start: 1 }] };
    expect(() => jitProgram(bad, PROFILES['linux-5.10'], { symbols: REF_SYMBOLS })).toThrow(expect.objectContaining({ code: 'jit.bad-program' }));
  });
  it('a call local into the middle of a function', () => {
    expect(() => jitProgram(program([{ insns: [mk(0x85, 0, 1, 0, 0), EXIT] }, { insns: [EXIT] }]), PROFILES['linux-5.10'], { symbols: REF_SYMBOLS }))
      .toThrow(expect.objectContaining({ code: 'jit.bad-subprog', location: { insn: 0 } }));
  });
  it('a missing kernel symbol', () => {
    expect(() => jitProgram(program([{ insns: [mk(0xb7, 0, 0, 0, 0), EXIT] }]), PROFILES['linux-5.10'], { symbols: { bpfCallBase: REF_SYMBOLS.bpfCallBase } }))
      .toThrow(expect.objectContaining({ code: 'jit.missing-symbol' }));
  });
  it('a conditional jump to beyond the function', () => {
    expect(() => jit1([mk(0x15, 1, 0, 100, 0), EXIT])).toThrow(expect.objectContaining({ code: 'jit.jump-outside-function', field: 'off' }));
  });
});
