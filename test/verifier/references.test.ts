// Reference tracking, spin locks and the bpf_jiffies64 inlining, each rule with 5.10's log
// lines (kernel/bpf/verifier.c 5.10: check_reference_leak(), check_helper_call(),
// process_spin_lock(), do_check(), fixup_bpf_calls()). Ids: a socket lookup takes one id for its
// register and acquire_reference_state() the next (++id_gen twice), so the first reference of a
// program is id=2, as the 5.10.223 logs of programs/selftests/verifier_ref_leak_* show.

import { describe, expect, test } from 'vitest';
import { Btf, type BtfType } from '../../src/elf/btf.js';
import { Bytes } from '../../src/elf/bytes.js';
import type { MapSpec } from '../../src/elf/types.js';
import { verify } from '../../src/verifier/index.js';
import * as h from './helpers.js';
import { AluOp, JmpOp, LD_IMM64, Mode, Size, Class, insn, rejection } from './helpers.js';

const { mov64Imm, mov64Reg, exit, call, jmpImm, ldMap, alu64Imm } = h;
const SK_LOOKUP_TCP = 84;
const SK_RELEASE = 86;
const SPIN_LOCK = 93;
const SPIN_UNLOCK = 94;
const TAIL_CALL = 12;
const KTIME = 5;

/** r0 = bpf_sk_lookup_tcp(ctx, fp-40, 36, -1, 0) with the context kept in r6: slot 8 is the call. */
const lookup = [
  mov64Reg(6, 1),
  mov64Imm(1, 0),
  h.stx(Size.DW, 10, 1, -40),
  mov64Reg(2, 10),
  alu64Imm(AluOp.ADD, 2, -40),
  mov64Reg(1, 6),
  mov64Imm(3, 36),
  mov64Imm(4, -1),
  mov64Imm(5, 0),
  call(SK_LOOKUP_TCP),
];
const LOOKUP_SLOT = lookup.length - 1;
const tailCallOf = (map: number) => [mov64Reg(1, 6), ldMap(2, map), mov64Imm(3, 0), call(TAIL_CALL)];
const tailCall = tailCallOf(0);
const slotsOf = (xs: ReturnType<typeof insn>[]) => xs.reduce((n, i) => n + (i.code === LD_IMM64 ? 2 : 1), 0);
const pa = [h.progArray('pa', 4)];

describe('references from socket lookups', () => {
  test('a tail call with the unchecked reference held leaks it (leak possible reference over tail call)', () => {
    const prog = [...lookup, mov64Reg(7, 0), ...tailCall, mov64Imm(0, 0), exit()];
    const e = rejection(() => h.run(prog, pa));
    expect(e.code).toBe('verifier.reference-leak');
    expect(e.kernelMessage).toBe(`Unreleased reference id=2 alloc_insn=${LOOKUP_SLOT}\ntail_call would lead to reference leak`);
    // The tail call: lookup, mov, then r1, ld_imm64 (2 slots), r3, call.
    expect(e.slot).toBe(LOOKUP_SLOT + 6);
  });

  test('exit with the reference held is "Unreleased reference" alone', () => {
    const e = rejection(() => h.run([...lookup, mov64Imm(0, 0), exit()]));
    expect(e.kernelMessage).toBe(`Unreleased reference id=2 alloc_insn=${LOOKUP_SLOT}`);
    expect(e.slot).toBe(LOOKUP_SLOT + 2);
  });

  test('release on the non-NULL side, tail call on the NULL side is accepted (check reference or tail call)', () => {
    // if r0 == 0 goto tail; r1 = r0; call release; r0 = 2; exit; tail: ...; r0 = 0; exit
    const prog = [...lookup, jmpImm(JmpOp.JEQ, 0, 0, 4), mov64Reg(1, 0), call(SK_RELEASE), mov64Imm(0, 2), exit(), ...tailCall, mov64Imm(0, 0), exit()];
    expect(h.run(prog, pa).pokes).toHaveLength(1);
  });

  test('release if held, then tail call is accepted (release reference then tail call)', () => {
    const prog = [...lookup, mov64Reg(7, 0), jmpImm(JmpOp.JEQ, 7, 0, 2), mov64Reg(1, 7), call(SK_RELEASE), ...tailCall, mov64Imm(0, 0), exit()];
    expect(() => h.run(prog, pa)).not.toThrow();
  });

  test('the released pointer and its copies are no longer a socket: releasing twice is not modeled', () => {
    const prog = [...lookup, mov64Reg(7, 0), jmpImm(JmpOp.JEQ, 7, 0, 4), mov64Reg(1, 7), call(SK_RELEASE), mov64Reg(1, 7), call(SK_RELEASE), mov64Imm(0, 0), exit()];
    expect(() => h.run(prog)).toThrow(/not modeled: bpf_sk_release of R1 type=inv/);
  });

  test('every unreleased reference gets its line, in acquisition order', () => {
    // Second lookup: the ids 3 (register) and 4 (reference); its call is LOOKUP_SLOT + 2 later.
    const again = [mov64Reg(1, 6), mov64Reg(2, 10), alu64Imm(AluOp.ADD, 2, -40), mov64Imm(3, 36), mov64Imm(4, -1), mov64Imm(5, 0), call(SK_LOOKUP_TCP)];
    const e = rejection(() => h.run([...lookup, mov64Reg(7, 0), ...again, ...tailCall, mov64Imm(0, 0), exit()], pa));
    expect(e.kernelMessage).toBe(
      `Unreleased reference id=2 alloc_insn=${LOOKUP_SLOT}\nUnreleased reference id=4 alloc_insn=${LOOKUP_SLOT + 1 + again.length}\ntail_call would lead to reference leak`,
    );
  });

  test('a legacy packet load with a reference held (check_ld_abs)', () => {
    const ldAbsB = insn(Class.LD | Mode.ABS | Size.B, 0, 0, 0, 0);
    const e = rejection(() => h.run([...lookup, mov64Reg(7, 0), ldAbsB, mov64Imm(0, 0), exit()]));
    expect(e.kernelMessage).toBe(`Unreleased reference id=2 alloc_insn=${LOOKUP_SLOT}\nBPF_LD_[ABS|IND] cannot be mixed with socket references`);
  });
});

// BTF of `struct locked { struct bpf_spin_lock lock; int value; }` (tailcall_fail_spin_lock's value type).
const TYPES: BtfType[] = [
  { kind: 'void', id: 0, name: '' },
  { kind: 'int', id: 1, name: 'int', size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 },
  { kind: 'struct', id: 2, name: 'bpf_spin_lock', size: 4, members: [{ name: 'val', type: 1, bitOffset: 0, bitfieldSize: 0 }] },
  {
    kind: 'struct', id: 3, name: 'locked', size: 8,
    members: [{ name: 'lock', type: 2, bitOffset: 0, bitfieldSize: 0 }, { name: 'value', type: 1, bitOffset: 32, bitfieldSize: 0 }],
  },
];
const btf = new Btf(TYPES, new Bytes(new Uint8Array(1)));
const lockMap: MapSpec = { ...h.arrayMap('lock_map', 8, 1), btfKeyTypeId: 1, btfValueTypeId: 3 };

/** r7 = lookup(lock_map, &0); if r7 == 0 skip `skip` slots (the body) to `r0 = 0; exit`. */
const lockedValue = (skip: number) => [
  mov64Reg(6, 1), mov64Imm(1, 0), h.stx(Size.W, 10, 1, -4), mov64Reg(2, 10), alu64Imm(AluOp.ADD, 2, -4),
  ldMap(1, 0), call(1), mov64Reg(7, 0), jmpImm(JmpOp.JEQ, 7, 0, skip),
];
const BODY = 10; // 9 instructions, the ld_imm64 is 2 slots: the check is slot 9

function runLocked(body: ReturnType<typeof insn>[], maps: MapSpec[] = [lockMap, ...pa]) {
  const all = [...lockedValue(slotsOf(body)), ...body, mov64Imm(0, 0), exit()];
  const p = h.program(all);
  return verify(p, { programs: [p], maps, btf }, h.jit);
}

describe('bpf_spin_lock on a map value', () => {
  const lock = [mov64Reg(1, 7), call(SPIN_LOCK)];
  const unlock = [mov64Reg(1, 7), call(SPIN_UNLOCK)];

  test('a tail call while holding the lock (reject_tail_call_spin_lock)', () => {
    const e = rejection(() => runLocked([...lock, ...tailCallOf(1), ...unlock]));
    expect(e.code).toBe('verifier.spin-lock');
    expect(e.kernelMessage).toBe('function calls are not allowed while holding a lock');
    // lock (2 slots), then r1, ld_imm64 (2), r3: the tail call is 6 slots into the body.
    expect(e.slot).toBe(BODY + 6);
  });

  test('any helper but bpf_spin_unlock while holding the lock', () => {
    expect(rejection(() => runLocked([...lock, call(KTIME), ...unlock])).kernelMessage).toBe('function calls are not allowed while holding a lock');
  });

  test('lock, unlock, exit is accepted', () => {
    expect(() => runLocked([...lock, ...unlock])).not.toThrow();
  });

  test('exit while holding the lock', () => {
    expect(rejection(() => runLocked(lock)).kernelMessage).toBe('bpf_spin_unlock is missing');
  });

  test('unlock without the lock', () => {
    expect(rejection(() => runLocked(unlock)).kernelMessage).toBe('bpf_spin_unlock without taking a lock');
  });

  test('locking twice is a call while holding the lock (do_check() tests that before process_spin_lock())', () => {
    const e = rejection(() => runLocked([...lock, ...lock, ...unlock]));
    expect(e.kernelMessage).toBe('function calls are not allowed while holding a lock');
    expect(e.slot).toBe(BODY + 3);
  });

  test('a lock away from the struct bpf_spin_lock member', () => {
    const e = rejection(() => runLocked([mov64Reg(1, 7), alu64Imm(AluOp.ADD, 1, 4), call(SPIN_LOCK), ...unlock]));
    expect(e.kernelMessage).toBe("off 4 doesn't point to 'struct bpf_spin_lock'");
  });

  test('a map without BTF', () => {
    const e = rejection(() => runLocked([...lock, ...unlock], [h.arrayMap('plain', 8, 1), ...pa]));
    expect(e.kernelMessage).toBe("map 'plain' has to have BTF in order to use bpf_spin_lock");
  });

  test('a possibly-NULL map value is the wrong argument type', () => {
    const prog = [mov64Imm(1, 0), h.stx(Size.W, 10, 1, -4), mov64Reg(2, 10), alu64Imm(AluOp.ADD, 2, -4), ldMap(1, 0), call(1), mov64Reg(1, 0), call(SPIN_LOCK), mov64Imm(0, 0), exit()];
    const p = h.program(prog);
    const e = rejection(() => verify(p, { programs: [p], maps: [lockMap], btf }, h.jit));
    expect(e.kernelMessage).toBe('R1 type=map_value_or_null expected=map_value');
  });
});

describe('bpf_jiffies64 (fixup_bpf_calls, 64-bit with a JIT)', () => {
  const JIFFIES = 0xffffffff82607980n; // 5.10.223's &jiffies in test_bpf_tailcalls' xlated dump
  const options = { ...h.jit, layout: { ...h.layout, kernelSymbol: (n: string) => (n === 'jiffies' ? JIFFIES : h.layout.kernelSymbol!(n)) } };
  const prog = [call(118), exit()];

  test('becomes r0 = &jiffies ll; r0 = *(u64 *)(r0 + 0)', () => {
    const p = h.program(prog);
    const vp = verify(p, { programs: [p], maps: [] }, options);
    // 18 00 .. 80796082 / ffffffff, then 79 00 0000 (the golden's slots 10-12).
    expect(vp.insns[0]).toMatchObject({ code: 0x18, dst: 0, src: 0, imm: 0x82607980 | 0, immHi: -1 });
    expect(vp.insns[1]).toMatchObject({ code: 0x79, dst: 0, src: 0, off: 0, imm: 0 });
    expect(vp.insns[2].code).toBe(0x95);
  });

  test('the interpreter keeps the helper call', () => {
    const p = h.program(prog);
    const vp = verify(p, { programs: [p], maps: [] }, { ...options, backend: 'interp' });
    expect(vp.insns[0].code).toBe(0x85);
  });

  test('a layout without jiffies is "not modeled"', () => {
    expect(() => h.run(prog)).toThrow(/not modeled: bpf_jiffies64 .*no address for jiffies/);
  });
});
