// src/elf/write.ts: objects it writes load in tailjit's loader as written (round trip), and in
// libbpf and the 6.18.44 host kernel (test/elf/written/: the object, its scenario and koracle's
// answer, recorded on the host).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadObject, writeObject } from '../../src/elf/index.js';
import { MapType } from '../../src/elf/types.js';
import { insn, ldImm64 } from '../../src/isa/index.js';
import * as I from '../../src/fuzz/insns.js';
import { runScenarioFile } from '../../emu/scenario.js';
import { runScenarioInterp } from '../../emu/interp-scenario.js';
import { readScenario } from '../../emu/scenario.js';
import { PROFILES } from '../../src/profile/index.js';
import { WRITTEN } from './write-fixture.js';

const DIR = join(import.meta.dirname, 'written');

describe('writeObject round trip through loadObject', () => {
  const bytes = writeObject(WRITTEN);
  const obj = loadObject(bytes, '/x/written.bpf.o');

  it('gives the programs in the order written, with the subprogram appended to the one calling it', () => {
    expect(obj.programs.map((p) => [p.name, p.section, p.type])).toEqual([
      ['entry', 'tc', 'sched_cls'], ['target', 'tc', 'sched_cls'], ['other', 'tc', 'sched_cls'],
    ]);
    const entry = obj.programs[0];
    // entry: 19 instructions (4 of them ld_imm64: 23 slots), then sub's 4 (one ld_imm64: 5 slots).
    expect(entry.insns.length).toBe(19 + 4);
    expect(entry.funcs.map((f) => [f.name, f.insnOff])).toEqual([['entry', 0], ['sub', 23]]);
    expect(obj.programs[1].funcs.map((f) => f.name)).toEqual(['target']);
  });

  it('resolves every relocation as libbpf does (hand computation)', () => {
    const e = obj.programs[0].insns;
    // Maps: jmp_table (0), then the .bss (1) and .data (2) sections' maps, in section order.
    expect(obj.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries])).toEqual([
      ['jmp_table', MapType.PROG_ARRAY, 4, 4, 2], ['written.bss', MapType.ARRAY, 4, 28, 1], ['written.data', MapType.ARRAY, 4, 8, 1],
    ]);
    // runs_entry: .bss offset 0 (src 2 = BPF_PSEUDO_MAP_VALUE, imm = map index, immHi = offset).
    expect(e[1]).toEqual({ ...ldImm64(1, 0n, 2), imm: 1, immHi: 0 });
    // key: after three u64 counters, at 24.
    expect(e[10]).toEqual({ ...ldImm64(3, 0n, 2), imm: 1, immHi: 24 });
    // jmp_table: src 1 = BPF_PSEUDO_MAP_FD, imm = map index 0.
    expect(e[9]).toEqual(ldImm64(2, 0n, 1));
    expect(e[14]).toEqual(ldImm64(2, 0n, 1));
    // call sub at slot 7: sub placed at slot 23, imm = 23 - 7 - 1.
    expect(e[6]).toEqual(insn(0x85, 0, 1, 0, 15));
    // sub's acc: .data offset 0, map 2.
    expect(e[19]).toEqual({ ...ldImm64(1, 0n, 2), imm: 2, immHi: 0 });
    // Everything else as written.
    const written = [...WRITTEN.programs[0].insns, ...WRITTEN.subprograms![0].insns];
    const relocated = new Set([1, 6, 9, 10, 14, 19]);
    e.forEach((x, i) => { if (!relocated.has(i)) expect(x).toEqual(written[i]); });
  });

  it('gives the globals their sections, offsets, sizes and initial values', () => {
    const bss = obj.maps[1];
    expect(bss.section).toBe('.bss');
    expect(bss.vars!.map((v) => [v.name, v.offset, v.size])).toEqual([['runs_entry', 0, 8], ['runs_target', 8, 8], ['runs_other', 16, 8], ['key', 24, 4]]);
    expect([...bss.initial!]).toEqual(new Array(28).fill(0));
    const data = obj.maps[2];
    expect(data.vars!.map((v) => [v.name, v.offset, v.size])).toEqual([['acc', 0, 8]]);
    expect([...data.initial!]).toEqual([5, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('refuses a relocation on an instruction that cannot take it, and names it', () => {
    expect(() => writeObject({ programs: [{ name: 'p', insns: [I.movImm(0, 0), I.exit()], relocs: [{ insn: 0, map: 'm' }] }], maps: [{ name: 'm', type: MapType.PROG_ARRAY, maxEntries: 1 }] }))
      .toThrow(/p: relocation at instruction 0: not an ld_imm64/);
    expect(() => writeObject({ programs: [{ name: 'p', insns: [I.callLocal(), I.exit()], relocs: [{ insn: 0, call: 'nope' }] }] }))
      .toThrow(/no subprogram nope/);
  });
});

describe('a written object on the 6.18.44 host (koracle) and on tailjit', () => {
  const golden = JSON.parse(readFileSync(join(DIR, 'expected', '6.18.44', 'written.json'), 'utf8')) as {
    kernel: { release: string }; runs: { step: number; retval: number; globals: Record<string, number> }[];
  };

  it('is the object the writer writes today, byte for byte', () => {
    expect(Buffer.from(writeObject(WRITTEN)).equals(readFileSync(join(DIR, 'written.bpf.o')))).toBe(true);
  });

  it('was loaded and run by libbpf on the host kernel, with the answers a hand computation gives', () => {
    expect(golden.kernel.release).toMatch(/^6\.18\.44/);
    // Hand computation (write-fixture.ts): sub returns acc + 100; a failed tail call falls through.
    expect(golden.runs.map((r) => [r.step, r.retval])).toEqual([[0, 105], [2, 7], [4, 42], [7, 7], [9, 1100], [11, 42]]);
    expect(golden.runs[5].globals).toEqual({ runs_entry: 3, runs_target: 3, runs_other: 0, key: 0, acc: 5 });
  });

  for (const profile of ['linux-5.10', 'linux-6.1', 'linux-6.18'] as const) {
    it(`answers as the kernel did on the emulated JIT and the interpreter (${profile})`, () => {
      const emu = runScenarioFile(join(DIR, 'written.json'), { profile: PROFILES[profile] });
      expect(emu.load_errors).toEqual([]);
      const interp = runScenarioInterp(readScenario(join(DIR, 'written.json')), { profile: PROFILES[profile] });
      for (const runs of [emu.runs, interp.runs]) {
        expect(runs.map((r) => [r.step, r.retval, r.globals])).toEqual(golden.runs.map((r) => [r.step, r.retval, r.globals]));
      }
    });
  }
});
