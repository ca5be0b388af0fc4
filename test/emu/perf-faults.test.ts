// The harness runs without a MEM_WRITE hook (any memory hook sends every load and store through
// unicorn 2.0.1's slow path), so a write fault is traced to its instruction by decoding the x86
// block. These tests check that it names the instruction unicorn itself names when a write hook
// makes it keep rip exact, and the instruction the hand-assembled code puts there.

import { afterEach, describe, expect, test } from 'vitest';
import { Machine, type RunResult } from '../../emu/harness/index.js';
import { KERNEL_FUNCTIONS } from '../../emu/kernel/index.js';
import { UcHookType, X86Reg } from '../../emu/unicorn/index.js';
import { RECURSE_THROUGH_SUB, rawProgram } from './harness-fixtures.js';

let machines: Machine[] = [];
afterEach(() => {
  for (const m of machines) m.close();
  machines = [];
});

/** A machine; `precise` adds the write hook the harness no longer has (unicorn then syncs rip before each store). */
function machine(precise: boolean, options: ConstructorParameters<typeof Machine>[0] = {}): Machine {
  const m = new Machine(options);
  machines.push(m);
  if (precise) m.kernel.uc.hookMemAccess(() => {}, UcHookType.MEM_WRITE, 1n, 1n);
  return m;
}

const hex = (a: bigint): string => `0x${a.toString(16)}`;

/** Runs `setup` on a default machine and on a precise one; returns the error and the precise machine's raw rip. */
function both(options: ConstructorParameters<typeof Machine>[0], setup: (m: Machine) => string): { r: RunResult; preciseRip: string } {
  const m = machine(false, options);
  const r = m.run(setup(m));
  const p = machine(true, options);
  p.run(setup(p));
  return { r, preciseRip: hex(p.kernel.uc.regRead(X86Reg.RIP)) };
}

const RECURSE = `
      call local f
      exit
    f:
      stdw [%r10-8], 1
      call local f
      exit`;

describe('write faults name their instruction without a write hook', () => {
  test('bpf2bpf recursion into the guard page: the store unicorn stops at with an exact rip', () => {
    const { r, preciseRip } = both({ functions: KERNEL_FUNCTIONS, stackRules: false }, (m) => {
      m.load(rawProgram(m, 'recurse', RECURSE, 256));
      return 'recurse';
    });
    expect(r.error!.message).toMatch(/^write unmapped .*guard page below the kernel stack/);
    expect(r.error!.message).not.toMatch(/x86 block/);
    expect(r.error!.x86_address).toBe(preciseRip);
  });

  test('tail calls through a subprogram with the counter patched out: the same store as with an exact rip', () => {
    const { r, preciseRip } = both({}, (m) => {
      m.loadObject(RECURSE_THROUGH_SUB);
      m.updateSlot('jmp_table', 0, 'entry');
      const add = m.program('entry').sites[0].compare + 5n; // `add eax, 1` after cmp (3) and ja (2)
      m.kernel.mem.writeText(add, Uint8Array.of(0x83, 0xc0, 0x00));
      return 'entry';
    });
    expect(r.error!.message).toMatch(/guard page below the kernel stack/);
    expect(r.error!.x86_address).toBe(preciseRip);
  });

  /** Writes `code(at)` over the first instruction after `recurse`'s prologue; returns where it starts. */
  function patched(m: Machine, code: (at: bigint) => number[]): bigint {
    m.load(rawProgram(m, 'recurse', RECURSE, 256));
    const f = m.program('recurse').jit.funcs[0];
    const at = f.address + BigInt(f.addrs[0]);
    m.kernel.mem.writeText(at, Uint8Array.from(code(at)));
    return at;
  }

  const imm64 = (v: bigint): number[] => [...new Uint8Array(new BigUint64Array([v]).buffer)];

  test('the third of four pushes crosses into the guard page: each push writes at rsp - 8 now, the value decides', () => {
    let start = 0n;
    const { r, preciseRip } = both({ functions: KERNEL_FUNCTIONS, stackRules: false }, (m) => {
      start = patched(m, () => [
        0x48, 0xb8, ...imm64(m.kernel.stackBase + 16n), // movabs rax, stack base + 16   (10 bytes)
        0x48, 0x89, 0xc4, //                              mov rsp, rax                   (3)
        0x53, //                                          push rbx: [base + 8, base + 16)
        0x41, 0x54, //                                    push r12: [base, base + 8)
        0x41, 0x55, //                                    push r13: [base - 8, base), the guard page
        0x41, 0x56, //                                    push r14
      ]);
      return 'recurse';
    });
    // rbx, r12, r13 and r14 hold the harness's distinct seeds here (the prologue saved nothing yet).
    expect(r.error!.x86_address).toBe(hex(start + 16n)); // 10 + 3 + 1 + 2 bytes in
    expect(r.error!.x86_address).toBe(preciseRip);
    expect(r.error!.message).toMatch(/^write unmapped of 8 bytes at .*guard page below the kernel stack/);
  });

  test('two pushes of equal values at the same address cannot be told apart: the first, marked as not exact', () => {
    const m = machine(false, { functions: KERNEL_FUNCTIONS, stackRules: false });
    const at = patched(m, () => [
      0x4d, 0x89, 0xee, //                              mov r14, r13                   (3 bytes)
      0x48, 0xb8, ...imm64(m.kernel.stackBase + 8n), // movabs rax, stack base + 8    (10)
      0x48, 0x89, 0xc4, //                              mov rsp, rax                   (3)
      0x53, //                                          push rbx: [base, base + 8)
      0x41, 0x55, //                                    push r13: the guard page
      0x41, 0x56, //                                    push r14 (same value, same address now)
    ]);
    const r = m.run('recurse');
    expect(r.error!.x86_address).toBe(hex(at + 17n));
    expect(r.error!.message).toMatch(/first of several stores/);
  });

  test('a store into the program\'s own (read-only) image is a write protection fault at the mov', () => {
    let start = 0n;
    const { r, preciseRip } = both({ functions: KERNEL_FUNCTIONS, stackRules: false }, (m) => {
      start = patched(m, () => [
        0x48, 0x31, 0xc9, //                  xor rcx, rcx         (3 bytes)
        0x48, 0x8d, 0x05, 0, 0, 0, 0, //      lea rax, [rip + 0]   (7)
        0x48, 0x89, 0x48, 0x10, //            mov [rax + 0x10], rcx
        0x90,
      ]);
      return 'recurse';
    });
    expect(r.error!.message).toMatch(/^write prot of 8 bytes at .*bpf image recurse|^write prot of 8 bytes at .*recurse\+/);
    expect(r.error!.x86_address).toBe(hex(start + 10n));
    expect(r.error!.x86_address).toBe(preciseRip);
    expect(r.error!.prog).toBe('recurse');
  });

  test('two movs of immediates reach the same address with rdx as it is now: the value written decides', () => {
    let start = 0n;
    const { r, preciseRip } = both({ functions: KERNEL_FUNCTIONS, stackRules: false }, (m) => {
      start = patched(m, () => [
        0x48, 0xba, ...imm64(0xffffc9ffdead0000n), // movabs rdx, unmapped   (10 bytes)
        0x48, 0x83, 0xc2, 0x10, //                    add rdx, 0x10          (4)
        0xc7, 0x42, 0x08, 0x07, 0, 0, 0, //           mov dword [rdx + 8], 7
        0x48, 0x83, 0xc2, 0x10, //                    add rdx, 0x10
        0xc7, 0x42, 0x08, 0x08, 0, 0, 0, //           mov dword [rdx + 8], 8
      ]);
      return 'recurse';
    });
    expect(r.error!.message).toMatch(/^write unmapped of 4 bytes at 0xffffc9ffdead0018/);
    // with rdx as it is now both movs write at 0x...0018; the value written was 7: the first
    expect(r.error!.x86_address).toBe(hex(start + 14n));
    expect(r.error!.message).not.toMatch(/x86 block/);
    expect(r.error!.x86_address).toBe(preciseRip);
  });
});

describe('kernel text is written as its pages are mapped', () => {
  test('thunks, stubs and the int3 filler are where text.ts says, in r-x pages', () => {
    const m = machine(false);
    const k = m.kernel;
    const at = (name: string, n: number): number[] => [...k.mem.read(k.symbol(name), n)];
    // arch/x86/lib/retpoline.S: call .Ldo_rop; pause; lfence; jmp; mov [rsp], rcx; ret
    expect(at('__x86_indirect_thunk_rcx', 17)).toEqual([0xe8, 7, 0, 0, 0, 0xf3, 0x90, 0x0f, 0xae, 0xe8, 0xeb, 0xf9, 0x48, 0x89, 0x0c, 0x24, 0xc3]);
    // a helper's stub: nop (its code hook does the work); ret; then the int3 filler
    expect(at('bpf_map_lookup_elem', 3)).toEqual([0x90, 0xc3, 0xcc]);
    const region = k.uc.memRegions().find((r) => r.begin <= k.symbol('bpf_map_lookup_elem') && k.symbol('bpf_map_lookup_elem') <= r.end)!;
    expect(region.perms).toBe(5); // UC_PROT_READ | UC_PROT_EXEC
  });

  test('an image allocation starts with bpf_binary_header.pages and is int3 around the image', () => {
    const m = machine(false, { functions: KERNEL_FUNCTIONS, stackRules: false });
    m.load(rawProgram(m, 'recurse', RECURSE, 256));
    const f = m.program('recurse').jit.funcs[0];
    const page = f.address & ~0xfffn;
    expect(m.kernel.mem.readU32(page)).toBe(1); // 256-byte stack frame program: one page
    expect(m.kernel.mem.read(f.address - 1n, 1)[0]).toBe(0xcc);
    expect(m.kernel.mem.read(f.address + BigInt(f.image.length), 1)[0]).toBe(0xcc);
  });
});
