// tailcalls.md §1-§6 and §10.2: prologue, epilogue, the counter, indirect and direct tail calls,
// poke descriptors and the poke state machine.
import { describe, expect, it } from 'vitest';
import type { Insn } from '../../src/isa/insn.js';
import { imageMemory, jitProgram, progArrayMapPokeRun, textPoke, type JitResult } from '../../src/jit/index.js';
import type { JitCpu } from '../../src/profile/index.js';
import type { PokeDescriptor } from '../../src/verifier/types.js';
import { REF_SYMBOLS, disasm, hex, mk, program, unhex, type FuncSpec } from './fixtures.js';
import { EXIT, IMAGE, P510 } from './helpers.js';

const CALLEE = IMAGE + 0x10000n;
const TARGET = 0xffffffffc0200000n; // a tail-call target's bpf_func
const INDIRECT = mk(0xf5, 0, 0, 0, 0);
const DIRECT = mk(0xf5, 0, 0, 0, 1);
const callLocal = (imm: number) => mk(0x85, 0, 1, 0, imm);
/** Mentions each callee-saved register in `regs` (r6..r9) once. */
const use = (regs: readonly number[]): Insn[] => regs.map((r) => mk(0xb7, r, 0, 0, 0));

function jit(funcs: FuncSpec[], pokes: PokeDescriptor[] = [], opts: { cpu?: Partial<JitCpu>; slot?: bigint | null } = {}): JitResult {
  return jitProgram(program(funcs, pokes), P510, {
    symbols: REF_SYMBOLS,
    images: ({ func }) => (func === 0 ? IMAGE : CALLEE + BigInt(func - 1) * 0x1000n),
    slotTarget: () => opts.slot ?? null,
    cpu: opts.cpu,
  });
}
const prologueOf = (r: JitResult, f = 0): string => hex(r.funcs[f].image.subarray(0, r.funcs[f].addrs[0]));

/** A main function that calls a subprogram `sub`. */
const withSub = (main: Omit<FuncSpec, 'insns'> & { body?: Insn[] }, sub: FuncSpec): FuncSpec[] => {
  const body = main.body ?? [];
  return [{ ...main, insns: [...body, callLocal(1), EXIT] }, { name: 'sub', ...sub }];
};

describe('§1.1 prologues of the reference images', () => {
  const main = (regs: number[], opts: Omit<FuncSpec, 'insns'> & { tc?: boolean } = {}) => jit([{ ...opts, insns: [...use(regs), ...(opts.tc ? [INDIRECT] : []), EXIT] }]);
  it.each([
    ['main, has its own tail call, r6 r7 r8', () => main([6, 7, 8], { tc: true }), '0f1f440000 31c0 55 4889e5 50 53 4155 4156'],
    ['main, has its own tail call, r6 r7', () => main([6, 7], { tc: true }), '0f1f440000 31c0 55 4889e5 50 53 4155'],
    ['main, has its own indirect tail call, no registers', () => main([], { tc: true }), '0f1f440000 31c0 55 4889e5 50'],
    ['main without a tail call whose callee tail-calls', () => jit(withSub({ tailCallReachable: true }, { insns: [INDIRECT, EXIT] })), '0f1f440000 31c0 55 4889e5 50'],
    ['main, reachable through callees, SD 64', () => main([], { tailCallReachable: true, stackDepth: 64 }), '0f1f440000 31c0 55 4889e5 4881ec40000000 50'],
    ['main, reachable through callees, SD 64, r6', () => main([6], { tailCallReachable: true, stackDepth: 64 }), '0f1f440000 31c0 55 4889e5 4881ec40000000 50 53'],
    ['main, reachable, also tail-calls, SD 16, r6-r9', () => main([6, 7, 8, 9], { tailCallReachable: true, stackDepth: 16, tc: true }), '0f1f440000 31c0 55 4889e5 4881ec10000000 50 53 4155 4156 4157'],
    ['main, reachable, SD 12 rounds to 16, r6 r7 r8', () => main([6, 7, 8], { tailCallReachable: true, stackDepth: 12 }), '0f1f440000 31c0 55 4889e5 4881ec10000000 50 53 4155 4156'],
    ['main without tail calls, r6-r9', () => main([6, 7, 8, 9]), '0f1f440000 6690 55 4889e5 53 4155 4156 4157'],
    ['main without tail calls, no registers', () => main([]), '0f1f440000 6690 55 4889e5'],
  ])('%s', (_n, make, bytes) => expect(prologueOf(make())).toBe(hex(unhex(bytes))));

  const sub = (regs: number[], opts: Omit<FuncSpec, 'insns'> & { tc?: boolean; calls?: boolean } = {}) => {
    const insns = [...use(regs), ...(opts.tc ? [INDIRECT] : []), ...(opts.calls ? [callLocal(1)] : []), EXIT];
    const funcs = withSub({ tailCallReachable: true }, { ...opts, insns });
    if (opts.calls) funcs.push({ name: 'leaf', insns: [INDIRECT, EXIT] });
    return prologueOf(jit(funcs), 1);
  };
  it.each([
    ['subprogram with a tail call, r6 r7', () => sub([6, 7], { tc: true }), '0f1f440000 6690 55 4889e5 50 53 4155'],
    ['subprogram with a tail call, SD 24, r6 r7', () => sub([6, 7], { tc: true, stackDepth: 24 }), '0f1f440000 6690 55 4889e5 4881ec18000000 50 53 4155'],
    ['subprogram with a tail call, SD 8, r6-r9', () => sub([6, 7, 8, 9], { tc: true, stackDepth: 8 }), '0f1f440000 6690 55 4889e5 4881ec08000000 50 53 4155 4156 4157'],
    ['subprogram whose callee tail-calls, SD 40', () => sub([], { calls: true, stackDepth: 40, tailCallReachable: true }), '0f1f440000 6690 55 4889e5 4881ec28000000 50'],
    ['subprogram, not reachable, r6-r9', () => sub([6, 7, 8, 9]), '0f1f440000 6690 55 4889e5 53 4155 4156 4157'],
  ])('%s', (_n, make, bytes) => expect(make()).toBe(hex(unhex(bytes))));

  it('the scan for callee-saved registers is syntactic: src fields count, liveness does not', () => {
    const r = jit([{ insns: [mk(0xbf, 0, 9), EXIT] }]); // r0 = r9 reads an unset r9, still pushed
    expect(prologueOf(r)).toBe(hex(unhex('0f1f440000 6690 55 4889e5 4157')));
  });
  it('a K8 nop5 from the CPU table (tailcalls.md §1.3)', () => {
    const r = jit([{ insns: [EXIT] }], [], { cpu: { nop5: [0x66, 0x66, 0x66, 0x66, 0x90] } });
    expect(prologueOf(r)).toBe(hex(unhex('6666666690 6690 55 4889e5')));
  });
});

describe('§2 epilogue', () => {
  it.each([
    [[6, 7, 8, 9], '415f 415e 415d 5b c9'],
    [[7], '415d c9'],
    [[], 'c9'],
  ])('pops %j in reverse, then leave', (regs, bytes) => {
    const f = jit([{ insns: [mk(0xb7, 0, 0, 0, 0), ...use(regs), EXIT] }], [], { cpu: { ret: 'ret' } }).funcs[0];
    expect(hex(f.image.subarray(f.cleanupAddr))).toBe(hex(unhex(bytes)) + 'c3');
  });
  it('no pop rax: leave drops the counter slot', () => {
    const f = jit([{ insns: [INDIRECT, EXIT] }], [], { cpu: { ret: 'ret' } }).funcs[0];
    expect(hex(f.image.subarray(f.cleanupAddr))).toBe('c9c3');
  });
});

describe('§4.1 indirect tail call, checked images', () => {
  const seq = (regs: number[], sd: number) => {
    const r = jit([{ insns: [...use(regs), INDIRECT, EXIT], stackDepth: sd }]);
    const f = r.funcs[0];
    const k = regs.length;
    const bytes = f.image.subarray(f.addrs[k], f.addrs[k + 1]);
    // The final jmp reaches __x86_indirect_thunk_rcx: rel32 = thunk - (end of the sequence).
    const rel = REF_SYMBOLS.indirectThunkRcx! - (IMAGE + BigInt(f.addrs[k + 1]));
    return { bytes: hex(bytes), rel: hex(new Uint8Array(new Int32Array([Number(rel)]).buffer)) };
  };
  it('P = 3, SD = 0', () => {
    const { bytes, rel } = seq([6, 7], 0);
    expect(bytes).toBe(hex(unhex('89d2 395624 7632 8b85fcffffff 83f820 7727 83c001 8985fcffffff 488b8cd610010000 4885c9 7411 415d 5b 58 488b4930 4883c10b e9')) + rel);
  });
  it('P = 0, SD = 0', () => {
    const { bytes, rel } = seq([], 0);
    expect(bytes).toBe(hex(unhex('89d2 395624 762f 8b85fcffffff 83f820 7724 83c001 8985fcffffff 488b8cd610010000 4885c9 740e 58 488b4930 4883c10b e9')) + rel);
  });
  it('P = 3, SD = 12 (SDr 16)', () => {
    const { bytes, rel } = seq([6, 7], 12);
    expect(bytes).toBe(hex(unhex('89d2 395624 7639 8b85ecffffff 83f820 772e 83c001 8985ecffffff 488b8cd610010000 4885c9 7418 415d 5b 58 4881c410000000 488b4930 4883c10b e9')) + rel);
  });
  it('decodes to the documented instruction sequence', () => {
    const f = jit([{ insns: [...use([6]), INDIRECT, EXIT] }]).funcs[0];
    const text = disasm(f.image.subarray(f.addrs[1], f.addrs[2]), IMAGE + BigInt(f.addrs[1]));
    expect(text.slice(0, 12)).toEqual([
      'mov edx, edx', 'cmp [rsi+0x24], edx', `jbe 0x${(IMAGE + BigInt(f.addrs[2])).toString(16)}`, 'mov eax, [rbp-0x4]', 'cmp eax, 0x20',
      `ja 0x${(IMAGE + BigInt(f.addrs[2])).toString(16)}`, 'add eax, 0x1', 'mov [rbp-0x4], eax', 'mov rcx, [rsi+rdx*8+0x110]', 'test rcx, rcx',
      `je 0x${(IMAGE + BigInt(f.addrs[2])).toString(16)}`, 'pop rbx',
    ]);
    expect(text.slice(12)).toEqual(['pop rax', 'mov rcx, [rcx+0x30]', 'add rcx, 0xb', `jmp 0x${REF_SYMBOLS.indirectThunkRcx!.toString(16)}`]);
  });
});

describe('§4.2 the final jump of an indirect tail call (J), and the bail-outs that follow it', () => {
  it.each([
    ['lfence', '0faee8ffe1', 5],
    ['plain', 'ffe1', 2],
    ['inline-retpoline', 'e807000000 f390 0faee8 ebf9 48890c24 c3', 17],
  ] as const)('%s: %s (J = %i)', (indirectJump, bytes, j) => {
    const f = jit([{ insns: [INDIRECT, EXIT] }], [], { cpu: { indirectJump } }).funcs[0];
    const s = f.image.subarray(f.addrs[0], f.addrs[1]);
    expect(s.length).toBe(49 + j);
    expect(hex(s.subarray(49))).toBe(hex(unhex(bytes)));
    expect([s[6], s[17], s[39]]).toEqual([42 + j, 31 + j, 9 + j]);
  });
});

describe('§5.1 direct tail call, checked images', () => {
  const direct = (regs: number[], sd: number, slot: bigint | null = null) => {
    const insns = [...use(regs), DIRECT, EXIT];
    const r = jit([{ insns, stackDepth: sd }], [{ insnIdx: regs.length, mapIndex: 0, key: 0, func: 0 }], { slot });
    const f = r.funcs[0];
    return { r, bytes: hex(f.image.subarray(f.addrs[regs.length], f.addrs[regs.length + 1])), at: IMAGE + BigInt(f.addrs[regs.length]) };
  };
  const jmpTo = (from: bigint, to: bigint) => 'e9' + hex(new Uint8Array(new Int32Array([Number(to - (from + 5n))]).buffer));
  it('slot empty, P = 5, SD = 0 (state C)', () => {
    expect(direct([6, 7, 8], 0).bytes).toBe(hex(unhex('8b85fcffffff 83f820 7719 83c001 8985fcffffff e90b000000 415e 415d 5b 58 0f1f440000')));
  });
  it('slot empty, P = 3, SD = 0', () => {
    expect(direct([6, 7], 0).bytes).toBe(hex(unhex('8b85fcffffff 83f820 7717 83c001 8985fcffffff e909000000 415d 5b 58 0f1f440000')));
  });
  it('slot empty, P = 3, SD = 24', () => {
    expect(direct([6, 7], 24).bytes).toBe(hex(unhex('8b85e4ffffff 83f820 771e 83c001 8985e4ffffff e910000000 415d 5b 58 4881c418000000 0f1f440000')));
  });
  it('slot empty, P = 3, SD = 12', () => {
    expect(direct([6, 7], 12).bytes).toBe(hex(unhex('8b85ecffffff 83f820 771e 83c001 8985ecffffff e910000000 415d 5b 58 4881c410000000 0f1f440000')));
  });
  it('slot set, P = 3, SD = 0 (state B: site 1 nop5, site 2 jmp target + 0xb)', () => {
    const { bytes, at } = direct([6, 7], 0, TARGET);
    expect(bytes).toBe(hex(unhex('8b85fcffffff 83f820 7717 83c001 8985fcffffff 0f1f440000 415d 5b 58')) + jmpTo(at + 26n + 3n, TARGET + 11n));
  });
  it('slot set, P = 7, SD = 16', () => {
    const { bytes, at } = direct([6, 7, 8, 9], 16, TARGET);
    expect(bytes).toBe(hex(unhex('8b85ecffffff 83f820 7722 83c001 8985ecffffff 0f1f440000 415f 415e 415d 5b 58 4881c410000000')) + jmpTo(at + 26n + 7n + 7n, TARGET + 11n));
  });
  it('slot set to the program itself: site 2 jumps to its own offset 0xb', () => {
    const { bytes, at } = direct([6, 7], 0, IMAGE);
    expect(bytes.slice(-10)).toBe(jmpTo(at + 29n, IMAGE + 11n));
  });
  it('§5.2: the descriptor points at the two sites', () => {
    const { r, at } = direct([6, 7], 24);
    expect(r.pokes[0]).toEqual({
      tailcallBypass: at + 20n, tailcallTarget: at + 26n + 3n + 7n, bypassAddr: at + 26n + 3n + 7n + 5n, adjOff: 11,
      stable: true, mapIndex: 0, key: 0, func: 0, insnIdx: 2,
    });
  });
  it('a tail call naming a missing poke descriptor is refused', () => {
    expect(() => jit([{ insns: [mk(0xf5, 0, 0, 0, 2), EXIT] }], [{ insnIdx: 0, mapIndex: 0, key: 0, func: 0 }]))
      .toThrow(expect.objectContaining({ code: 'jit.bad-poke', location: { insn: 0 } }));
  });
  it('the K8 nop5 is used for both sites too', () => {
    const k8 = [0x66, 0x66, 0x66, 0x66, 0x90];
    const r = jit([{ insns: [DIRECT, EXIT] }], [{ insnIdx: 0, mapIndex: 0, key: 0, func: 0 }], { cpu: { nop5: k8 } });
    const f = r.funcs[0];
    expect(hex(f.image.subarray(f.addrs[1] - 5, f.addrs[1]))).toBe('6666666690');
    const b = jit([{ insns: [DIRECT, EXIT] }], [{ insnIdx: 0, mapIndex: 0, key: 0, func: 0 }], { cpu: { nop5: k8 }, slot: TARGET }).funcs[0];
    expect(hex(b.image.subarray(b.addrs[0] + 20, b.addrs[0] + 25))).toBe('6666666690');
  });
});

describe('§6 the poke state machine (prog_array_map_poke_run)', () => {
  const setup = (slot: bigint | null) => {
    const r = jit([{ insns: [...use([6]), DIRECT, EXIT] }], [{ insnIdx: 1, mapIndex: 0, key: 0, func: 0 }], { slot });
    const f = r.funcs[0];
    return { r, f, mem: imageMemory(f.image, f.address), sites: r.pokes };
  };
  const nop5 = P510.jit.cpu.nop5;
  it('install: C -> D -> B, the same bytes the fix-up writes for a populated slot', () => {
    const c = setup(null);
    const writes = progArrayMapPokeRun(c.mem, c.sites, 0, 0, null, TARGET, nop5);
    expect(writes.map((w) => w.address)).toEqual([c.sites[0].tailcallTarget, c.sites[0].tailcallBypass]);
    expect(hex(c.f.image)).toBe(hex(setup(TARGET).f.image));
  });
  it('replace: B -> B\', site 2 only', () => {
    const b = setup(TARGET);
    const writes = progArrayMapPokeRun(b.mem, b.sites, 0, 0, TARGET, TARGET + 0x1000n, nop5);
    expect(writes.map((w) => w.address)).toEqual([b.sites[0].tailcallTarget]);
    expect(hex(b.f.image)).toBe(hex(setup(TARGET + 0x1000n).f.image));
  });
  it('remove: B -> D -> C, site 1 first', () => {
    const b = setup(TARGET);
    const writes = progArrayMapPokeRun(b.mem, b.sites, 0, 0, TARGET, null, nop5);
    expect(writes.map((w) => w.address)).toEqual([b.sites[0].tailcallBypass, b.sites[0].tailcallTarget]);
    expect(hex(b.f.image)).toBe(hex(setup(null).f.image));
  });
  it('no-op updates write nothing; other keys and maps are not touched', () => {
    const c = setup(null);
    expect(progArrayMapPokeRun(c.mem, c.sites, 0, 0, null, null, nop5)).toEqual([]);
    expect(progArrayMapPokeRun(c.mem, c.sites, 0, 1, null, TARGET, nop5)).toEqual([]);
    expect(progArrayMapPokeRun(c.mem, c.sites, 1, 0, null, TARGET, nop5)).toEqual([]);
  });
  it('text_poke: -EBUSY when the old bytes differ, 1 when the new ones are already there', () => {
    const c = setup(null);
    const site = c.sites[0];
    expect(textPoke(c.mem, site.tailcallTarget, TARGET, null, nop5)).toBe(-16);
    expect(textPoke(c.mem, site.tailcallTarget, null, null, nop5)).toBe(1);
    expect(textPoke(c.mem, site.tailcallTarget, null, TARGET, nop5)).toBe(0);
  });
});

describe('§10.2 byte ranges', () => {
  const cases: { name: string; regs: number[]; sd: number; reach: boolean; sub: boolean }[] = [];
  for (const sub of [false, true]) {
    for (const reach of [false, true]) {
      for (const sd of [0, 8, 12, 24]) {
        for (const regs of [[], [6], [7, 9], [6, 7, 8, 9]]) cases.push({ name: `${sub ? 'sub' : 'main'} R=${reach} SD=${sd} regs=${regs.join('')}`, regs, sd, reach, sub });
      }
    }
  }
  const build = (c: (typeof cases)[number], tail: Insn[]) => {
    const fn: FuncSpec = { insns: [...use(c.regs), ...tail, EXIT], stackDepth: c.sd, tailCallReachable: c.reach };
    const r = c.sub ? jit([{ insns: [callLocal(1), EXIT], tailCallReachable: true }, fn], tail.includes(DIRECT) ? [{ insnIdx: 2 + c.regs.length, mapIndex: 0, key: 0, func: 1 }] : [])
      : jit([fn], tail.includes(DIRECT) ? [{ insnIdx: c.regs.length, mapIndex: 0, key: 0, func: 0 }] : []);
    return r.funcs[c.sub ? 1 : 0];
  };
  const P = (regs: number[]) => regs.reduce((n, r) => n + (r === 6 ? 1 : 2), 0);
  const S7 = (sd: number) => (sd ? 7 : 0);
  const SDr = (sd: number) => (sd + 7) & ~7;
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const plain = build(c, [mk(0x85, 0, 0, 0, 25120)]);
    const pushes = P(c.regs);
    // prologue length = 11 + S7 + (1 if R) + pushes
    expect(plain.addrs[0]).toBe(11 + S7(c.sd) + (c.reach ? 1 : 0) + pushes);
    // call = 5, or 12 if R
    const k = c.regs.length;
    expect(plain.addrs[k + 1] - plain.addrs[k]).toBe(c.reach ? 12 : 5);
    // epilogue = P + 1 + 5 with the return thunk
    expect(plain.image.length - plain.cleanupAddr).toBe(pushes + 1 + 5);
    // direct tail call = 31 + P + S7; indirect = 49 + P + S7 + J (J = 5); both make the function R
    const direct = build(c, [DIRECT]);
    expect(direct.addrs[k + 1] - direct.addrs[k]).toBe(31 + pushes + S7(c.sd));
    const indirect = build(c, [INDIRECT]);
    expect(indirect.addrs[k + 1] - indirect.addrs[k]).toBe(49 + pushes + S7(c.sd) + 5);
    // counter dword at rbp - SDr - 4 (first instruction of the direct form)
    const cnt = disasm(direct.image.subarray(direct.addrs[k], direct.addrs[k] + 6))[0];
    expect(cnt).toBe(`mov eax, [rbp-0x${(SDr(c.sd) + 4).toString(16)}]`);
    // slot qword at rbp - SDr - 8 (the reload before a call)
    if (c.reach) expect(disasm(plain.image.subarray(plain.addrs[k], plain.addrs[k] + 7))[0]).toBe(`mov rax, [rbp-0x${(SDr(c.sd) + 8).toString(16)}]`);
  });
  it('tail-call entry = bpf_func + 11, for the direct site and in the indirect sequence', () => {
    const f = jit([{ insns: [DIRECT, EXIT] }], [{ insnIdx: 0, mapIndex: 0, key: 0, func: 0 }], { slot: TARGET }).funcs[0];
    const site2 = f.addrs[1] - 5;
    expect(BigInt(new DataView(f.image.buffer).getInt32(site2 + 1, true))).toBe(TARGET + 11n - (IMAGE + BigInt(site2) + 5n));
    const ind = jit([{ insns: [INDIRECT, EXIT] }]).funcs[0];
    expect(disasm(ind.image.subarray(ind.addrs[0] + 45, ind.addrs[0] + 49))).toEqual(['add rcx, 0xb']);
  });
});
