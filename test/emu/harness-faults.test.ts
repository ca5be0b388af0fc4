// Runs that cannot end normally end in a structured error (scenario.md §Output `error`), never
// in a crash or a hang: deliberately broken images, recursion into the stack's guard page,
// endless loops against the budgets, clobbered callee-saved registers, the forbidden poke state.

import { afterEach, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { loadObjectFile } from '../../src/elf/index.js';
import { Machine } from '../../emu/harness/index.js';
import { KERNEL_FUNCTIONS } from '../../emu/kernel/index.js';
import { RECURSE_THROUGH_SUB, rawProgram } from './harness-fixtures.js';

const PROGRAMS = join(import.meta.dirname, '../../programs');
let machines: Machine[] = [];
function machine(options: ConstructorParameters<typeof Machine>[0] = {}): Machine {
  const m = new Machine(options);
  machines.push(m);
  return m;
}
afterEach(() => {
  for (const m of machines) m.close();
  machines = [];
});

function selfTail(): Machine {
  const m = machine();
  m.loadObject(loadObjectFile(join(PROGRAMS, 'self_tail.bpf.o')));
  return m;
}

const jmp = (from: bigint, to: bigint): Uint8Array => {
  const b = new Uint8Array(5);
  b[0] = 0xe9;
  new DataView(b.buffer).setInt32(1, Number(to - (from + 5n)), true);
  return b;
};

describe('broken images', () => {
  test('a jump into unmapped memory is a fetch fault at the target, in the program that jumped', () => {
    const m = selfTail();
    const f = m.program('loop_direct').jit.funcs[0];
    const at = f.address + BigInt(f.addrs[0]); // the first instruction after the prologue
    const weeds = 0xffffffffc8000000n;
    m.kernel.mem.writeText(at, jmp(at, weeds));
    const r = m.run('loop_direct');
    expect(r.error).toMatchObject({ kind: 'fault', x86_address: '0xffffffffc8000000', prog: 'loop_direct', call_chain: ['loop_direct'] });
    expect(r.error!.message).toMatch(/fetch unmapped/);
  });

  test('a jump into the int3 filler of an image allocation traps (#BP) there', () => {
    const m = selfTail();
    const f = m.program('loop_direct').jit.funcs[0];
    const at = f.address + BigInt(f.addrs[0]);
    const past = f.address + BigInt(f.image.length) + 16n; // inside the page, after the image
    m.kernel.mem.writeText(at, jmp(at, past));
    const r = m.run('loop_direct');
    expect(r.error).toMatchObject({ kind: 'fault', x86_address: `0x${past.toString(16)}` });
    expect(r.error!.message).toMatch(/int3 \(#BP\) at loop_direct\+0x/);
  });

  test('a jump into a map value (no-execute) is a fetch protection fault', () => {
    const m = selfTail();
    const f = m.program('loop_direct').jit.funcs[0];
    const at = f.address + BigInt(f.addrs[0]);
    const data = m.map('self_tai.data');
    // movabs rax, value; jmp rax (a map value is beyond rel32 reach of the module area)
    const code = new Uint8Array(12);
    code.set([0x48, 0xb8]);
    new DataView(code.buffer).setBigUint64(2, data.address, true);
    code.set([0xff, 0xe0], 10);
    m.kernel.mem.writeText(at, code);
    const r = m.run('loop_direct');
    expect(r.error!.kind).toBe('fault');
    expect(r.error!.message).toMatch(/fetch prot .*global data \.data/);
  });

  test('a clobbered callee-saved register fails the check, with the run otherwise complete', () => {
    const m = machine();
    m.loadObject(RECURSE_THROUGH_SUB);
    const f = m.program('entry').jit.funcs[0];
    // The epilogue starts with entry's only pop, `pop rbx` (5b); make it a nop.
    expect(m.kernel.mem.read(f.address + BigInt(f.cleanupAddr), 1)[0]).toBe(0x5b);
    m.kernel.mem.writeText(f.address + BigInt(f.cleanupAddr), Uint8Array.of(0x90));
    const r = m.run('entry');
    expect(r.retval).toBe(1001); // slot 0 empty: hop falls through
    expect(r.error).toMatchObject({ kind: 'check' });
    expect(r.error!.message).toMatch(/callee_saved .*rbx/);
    expect(r.trace.checks.find((c) => c.check === 'callee_saved')).toMatchObject({ ok: false });
  });

  test('a direct tail call run in the forbidden state A stops the run', () => {
    const m = selfTail();
    m.updateSlot('jmp_table', 0, 'loop_direct');
    const poke = m.program('loop_direct').jit.pokes[0];
    m.kernel.mem.writeText(poke.tailcallTarget, Uint8Array.of(0x0f, 0x1f, 0x44, 0x00, 0x00));
    const r = m.run('loop_direct');
    expect(r.error).toMatchObject({ kind: 'check', x86_address: `0x${poke.tailcallTarget.toString(16)}` });
    expect(r.error!.message).toMatch(/forbidden state A/);
    expect(r.trace.checks.find((c) => c.check === 'poke_states')).toMatchObject({ ok: false });
  });
});

describe('the stack', () => {
  test('bpf2bpf recursion (which the verifier refuses) runs into the guard page below the 16 KiB stack', () => {
    const m = machine({ functions: KERNEL_FUNCTIONS, stackRules: false });
    m.load(rawProgram(m, 'recurse', `
      call local f
      exit
    f:
      stdw [%r10-8], 1
      call local f
      exit`, 256));
    const r = m.run('recurse');
    expect(r.error!.kind).toBe('fault');
    expect(r.error!.message).toMatch(/write unmapped .*\(guard page below the kernel stack/);
    // frames of 8 (return address) + 8 (rbp) + 256: about (16 KiB - 512) / 272 of them
    expect(r.error!.call_chain.length).toBeGreaterThan(50);
    expect(r.error!.prog).toBe('func#1');
    expect(r.error!.bpf_insn).not.toBeNull();
  });

  test('tail calls through a subprogram with the counter increment patched out overflow the stack', () => {
    const m = machine();
    m.loadObject(RECURSE_THROUGH_SUB);
    m.updateSlot('jmp_table', 0, 'entry');
    const site = m.program('entry').sites[0];
    // `add eax, 1` (83 c0 01) follows the compare's `ja` (cmp 3 bytes + ja 2)
    const add = site.compare + 5n;
    expect([...m.kernel.mem.read(add, 3)]).toEqual([0x83, 0xc0, 0x01]);
    m.kernel.mem.writeText(add, Uint8Array.of(0x83, 0xc0, 0x00));
    const r = m.run('entry');
    expect(r.error!.kind).toBe('fault');
    expect(r.error!.message).toMatch(/guard page below the kernel stack/);
    expect(r.trace.tail_calls).toBeGreaterThan(33);
    expect(r.trace.checks.find((c) => c.check === 'tail_call_limit')).toMatchObject({ ok: false });
  });
});

describe('budgets', () => {
  test('an endless loop ends with kind budget after the x86 instruction budget', () => {
    const m = machine({ functions: KERNEL_FUNCTIONS, stackRules: false });
    m.load(rawProgram(m, 'spin', `
      mov %r0, 0
    l:
      add %r0, 1
      ja l
      exit`));
    const r = m.run('spin', { budget: { x86Insns: 100_000 } });
    expect(r.error).toMatchObject({ kind: 'budget', prog: 'spin', call_chain: ['spin'] });
    expect(r.error!.message).toMatch(/100000 x86 instructions/);
    expect(r.error!.bpf_insn).not.toBeNull();
  });

  test('the wall-time budget ends it too', () => {
    const m = machine({ functions: KERNEL_FUNCTIONS, stackRules: false });
    m.load(rawProgram(m, 'spin', `
    l:
      ja l
      exit`));
    const r = m.run('spin', { budget: { x86Insns: 0, wallUs: 20_000 } });
    expect(r.error!.kind).toBe('budget');
    expect(r.error!.message).toMatch(/wall-time budget of 20000 us/);
  });

  test('the machine keeps working after a failed run', () => {
    const m = selfTail();
    const f = m.program('loop_direct').jit.funcs[0];
    const at = f.address + BigInt(f.addrs[0]);
    const saved = m.kernel.mem.read(at, 5);
    m.kernel.mem.writeText(at, jmp(at, 0xffffffffc8000000n));
    expect(m.run('loop_direct').error).not.toBeNull();
    m.kernel.mem.writeText(at, saved);
    const r = m.run('loop_direct');
    expect(r.error).toBeNull();
    expect(r.retval).toBe(1);
  });
});
