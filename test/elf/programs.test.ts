// Programs, maps and subprogram layout of the committed objects. Expected values come from the
// C sources (names, sections, map sizes) and from the kernels' answers in programs/expected/
// (instruction counts, function boundaries, call offsets).

import { describe, expect, it } from 'vitest';
import { FuncLinkage, loadObjectFile, MapType, type ObjectFile } from '../../src/elf/index.js';
import { decode, Layout, type Insn } from '../../src/isa/insn.js';
import { PseudoSrc } from '../../src/isa/opcode.js';
import { goldens, objectPath } from './goldens.js';

const load = (name: string): ObjectFile => loadObjectFile(objectPath(`${name}.bpf.o`));
const RDONLY = 0x80;
const MMAPABLE = 0x400;
const NO_PREALLOC = 0x1;

describe('programs come from FUNC symbols of program sections, named by the function', () => {
  // [object, [program, section, type, functions in libbpf's order]...] from the C sources.
  const table: [string, [string, string, string, string[]][]][] = [
    ['calls', [
      ['two_levels', 'tc', 'sched_cls', ['two_levels', 'leaf']],
      // First call first, depth first: mid, then leaf (called by mid), then global_sq.
      ['three_levels', 'tc', 'sched_cls', ['three_levels', 'mid', 'leaf', 'global_sq']],
    ]],
    ['sections', [
      ['tc_first', 'tc', 'sched_cls', ['tc_first', 'scale']],
      ['tc_second', 'tc', 'sched_cls', ['tc_second', 'scale']],
      ['cls_legacy', 'classifier', 'sched_cls', ['cls_legacy']],
      ['xdp_pass', 'xdp', 'xdp', ['xdp_pass']],
      ['sock_keep', 'socket', 'socket_filter', ['sock_keep', 'scale']],
    ]],
    ['tail_from_sub', [
      ['entry', 'tc', 'sched_cls', ['entry', 'middle', 'deep', 'hop']],
      ['target', 'tc', 'sched_cls', ['target']],
    ]],
    ['sub_twice', [
      ['entry', 'tc', 'sched_cls', ['entry', 'sub']],
      ['once_prog', 'tc', 'sched_cls', ['once_prog', 'sub']],
    ]],
    ['tail_direct', [
      ['entry', 'tc', 'sched_cls', ['entry']],
      ['target0', 'tc', 'sched_cls', ['target0']],
      ['target1', 'tc', 'sched_cls', ['target1']],
    ]],
  ];
  it.each(table)('%s', (obj, progs) => {
    const o = load(obj);
    const got = o.programs.map((p) => [p.name, p.section, p.type, p.funcs.map((f) => f.name)]);
    expect(got.sort()).toEqual([...progs].sort());
    for (const p of o.programs) expect(p.license).toBe('Dual MIT/GPL');
  });

  it('BTF tells global functions (verified on their own by 5.10) from static ones', () => {
    const o = load('calls');
    const three = o.programs.find((p) => p.name === 'three_levels')!;
    // calls.bpf.c: leaf and mid are `static __noinline`, global_sq is not static.
    const linkage = three.funcs.map((f) => { const t = o.btf!.type(f.typeId); return t.kind === 'func' ? t.linkage : -1; });
    expect(linkage).toEqual([FuncLinkage.GLOBAL, FuncLinkage.STATIC, FuncLinkage.STATIC, FuncLinkage.GLOBAL]);
  });

  it('rejected objects load too: the ELF is fine, only the verifier refuses them', () => {
    expect(load('reject_depth').programs[0].funcs.map((f) => f.name)).toEqual(['entry', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8']);
    expect(load('reject_frame_above').programs[0].funcs.map((f) => f.name)).toEqual(['entry', 'big', 'jump']);
  });
});

describe('maps: sizes from the C sources, in libbpf order (.maps first, then global data by section)', () => {
  const spec = (name: string, type: number, keySize: number, valueSize: number, maxEntries: number, flags: number) =>
    ({ name, type, keySize, valueSize, maxEntries, flags });
  const table: [string, ReturnType<typeof spec>[]][] = [
    ['maps', [
      spec('counters', MapType.ARRAY, 4, 8, 8, 0),
      spec('pairs', MapType.HASH, 4, 8, 16, NO_PREALLOC), // struct pair: two u32
      spec('maps.bss', MapType.ARRAY, 4, 16, 1, MMAPABLE), // u64 last_count, u32 hash_hits, u32 hash_created
    ]],
    ['tail_direct', [spec('jmp_table', MapType.PROG_ARRAY, 4, 4, 4, 0), spec('tail_dir.bss', MapType.ARRAY, 4, 16, 1, MMAPABLE)]],
    ['prog_init', [spec('stages', MapType.PROG_ARRAY, 4, 4, 4, 0), spec('prog_ini.bss', MapType.ARRAY, 4, 4, 1, MMAPABLE)]],
    ['globals', [
      // .data: s64 total, u16 hist[4], struct point (6) + 2 padding, enum, bitfields u32, float, char[8]
      spec('globals.data', MapType.ARRAY, 4, 44, 1, MMAPABLE),
      // .rodata: u32 limit, s8 neg_one + pad, s16 step, char greet[6]
      spec('globals.rodata', MapType.ARRAY, 4, 14, 1, RDONLY | MMAPABLE),
      // "tail" and its NUL; no variables, so not mmapable (libbpf's map_is_mmapable)
      spec('.rodata.str1.1', MapType.ARRAY, 4, 5, 1, RDONLY),
      // u32 runs, static u32 hidden_ticks, s32 last_len + pad, u64 *nowhere
      spec('globals.bss', MapType.ARRAY, 4, 24, 1, MMAPABLE),
    ]],
  ];
  it.each(table)('%s', (obj, maps) => {
    expect(load(obj).maps.map((m) => spec(m.name, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags))).toEqual(maps);
  });

  it('a prog array with __array(values) gets its initial slots: [0] stage_zero, [2] stage_two', () => {
    expect(load('prog_init').maps[0].values).toEqual(['stage_zero', null, 'stage_two']);
  });

  it('global-data maps carry their section, initial bytes and DATASEC variables', () => {
    const bss = load('tail_from_sub').maps.find((m) => m.section === '.data')!;
    expect(bss.name).toBe('tail_fro.data');
    expect([...bss.initial!]).toEqual([1, 0, 0, 0]); // __u32 hop_slot = 1
    expect(bss.vars!.map((v) => [v.name, v.offset, v.size])).toEqual([['hop_slot', 0, 4]]);
    const ro = load('globals').maps.find((m) => m.section === '.rodata')!;
    expect(ro.frozen).toBe(true);
    expect(ro.vars!.map((v) => [v.name, v.offset, v.size])).toEqual([['limit', 0, 4], ['neg_one', 4, 1], ['step', 6, 2], ['greet', 8, 6]]);
  });
});

describe('relocations', () => {
  it('a map reference becomes PSEUDO_MAP_FD with the map index, a global PSEUDO_MAP_VALUE with the offset', () => {
    // tail_direct.bpf.c entry: entry_runs++, then bpf_tail_call_static on jmp_table (map 0),
    // then fallthrough++; .bss is map 1. clang put entry_runs at 0 and fallthrough at 4
    // (llvm-readelf -s; the 5.10 kernel's first run shows .bss = 01000000 01000000 ...).
    const o = load('tail_direct');
    const wide = o.programs.find((p) => p.name === 'entry')!.insns.filter((i) => i.code === 0x18);
    expect(wide.map((i) => [i.src, i.imm, i.immHi])).toEqual([
      [PseudoSrc.MAP_VALUE, 1, 0],
      [PseudoSrc.MAP_FD, 0, 0],
      [PseudoSrc.MAP_VALUE, 1, 4],
    ]);
  });

  it('line_info keeps file, line, column and the source text', () => {
    const entry = load('tail_direct').programs.find((p) => p.name === 'entry')!;
    // tail_direct.bpf.c line 18 is "\tentry_runs++;", column 12 where clang puts the increment.
    expect(entry.lineInfo[1]).toEqual({ insnOff: 1, file: './tail_direct.bpf.c', line: 18, column: 12, text: '\tentry_runs++;' });
  });
});

// ------------------------------------------------------------------ against the kernels

/** Function start slots in a kernel's xlated dump: pseudo calls keep their relative offset in `off`. */
function xlatedStarts(x: readonly Insn[]): number[] {
  const lay = new Layout(x);
  const starts = new Set([0]);
  x.forEach((ins, i) => { if (ins.code === 0x85 && ins.src === 1) starts.add(lay.slotOf[i] + ins.off + 1); });
  return [...starts].sort((a, b) => a - b);
}

/** The kernel inlines map lookups into the xlated program; nothing else in these objects changes size. */
const INLINED: Record<string, number> = {
  // array_map_gen_lookup: 1 call -> 7 insns; htab_map_gen_lookup: 1 call -> 3 insns: 6 + 2 more slots.
  'maps/count_len': 8,
};

/** Objects whose context accesses the verifier rewrites: their slot counts change. */
const CTX_CONVERTED = new Set(['ctx_values']);

describe.each(goldens().map((g) => [`${g.release} ${g.scenario}`, g] as const))('as the kernel loaded it: %s', (_, g) => {
  const o = loadObjectFile(objectPath(g.object));

  it('has the kernel\'s programs in libbpf\'s order', () => {
    expect(o.programs.map((p) => [p.name, p.section, p.type])).toEqual(g.programs.map((p) => [p.name, p.section, p.type]));
  });

  // ctx_values reads context fields, which the verifier converts into longer sequences
  // (test/verifier checks those conversions against the same kernels).
  it.skipIf(CTX_CONVERTED.has(g.scenario)).each(g.programs.map((p) => [p.name, p] as const))('%s: slot count, functions and call offsets match the xlated program', (name, kp) => {
    const p = o.programs.find((x) => x.name === name)!;
    const lay = new Layout(p.insns);
    expect(lay.slots + (INLINED[`${g.scenario}/${name}`] ?? 0)).toBe(kp.xlated_insn_count);
    expect(p.funcs.length).toBe(kp.jited_func_lens.length);
    if (INLINED[`${g.scenario}/${name}`]) return;
    const x = decode(Buffer.from(kp.xlated_hex, 'hex'));
    expect(p.funcs.map((f) => f.insnOff)).toEqual(xlatedStarts(x));
    const xl = new Layout(x);
    p.insns.forEach((ins, i) => {
      const k = x[xl.indexAt[lay.slotOf[i]]];
      if (ins.code === 0x85 && ins.src === 1) expect(k.off, `call at slot ${lay.slotOf[i]}`).toBe(ins.imm);
      if (ins.code === 0x18 && ins.src !== 0) {
        expect(k.src, `ld_imm64 at slot ${lay.slotOf[i]}`).toBe(ins.src);
        if (ins.src === PseudoSrc.MAP_VALUE) expect(k.immHi, `value offset at slot ${lay.slotOf[i]}`).toBe(ins.immHi);
      }
    });
  });
});
