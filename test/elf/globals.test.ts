// Decoding global data with BTF, checked against what koracle decoded from the kernel's own map
// contents (programs/expected/), and libbpf's internal map names.

import { describe, expect, it } from 'vitest';
import { decodeGlobals, internalMapName, loadObjectFile, objectName } from '../../src/elf/index.js';
import { goldens, objectPath } from './goldens.js';

const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? Number(x) : x)));

describe.each(goldens().map((g) => [`${g.release} ${g.scenario}`, g] as const))('globals as the kernel reported them: %s', (_, g) => {
  const o = loadObjectFile(objectPath(g.object));

  it.each(g.runs.map((r) => [r.label, r] as const))('run "%s": the section bytes decode to the reported globals', (_l, run) => {
    const bytes = new Map(Object.entries(run.sections).map(([k, v]) => [k, fromHex(v)]));
    const snap = decodeGlobals(o, bytes);
    expect(plain(snap.globals)).toEqual(run.globals);
    expect(snap.sections).toEqual(run.sections);
  });

  it('the same sections, in the same order, as the kernel\'s maps', () => {
    const first = g.runs[0];
    expect(Object.keys(decodeGlobals(o).sections)).toEqual(Object.keys(first.sections));
  });

  it('read-only sections start as the kernel holds them', () => {
    const init = decodeGlobals(o).sections;
    for (const [k, v] of Object.entries(g.runs[0].sections)) if (k.startsWith('.rodata')) expect(init[k], k).toBe(v);
  });
});

describe('initial values of variables no program writes (from the C sources)', () => {
  const table: [string, Record<string, unknown>][] = [
    ['globals', {
      limit: 3, neg_one: -1, step: 3, greet: [104, 101, 108, 108, 111, 0], // "hello"
      bits: { lo: 5, hi: 17, rest: 0xabcde }, name: [116, 97, 105, 108, 106, 105, 116, 0], // "tailjit"
      ratio: '0000c03f', // a float is not decoded: 1.5f as little-endian IEEE 754 bytes
      nowhere: 0, total: -5, hist: [1, 2, 3, 4], origin: { x: -1, y: 2, tag: 7 },
      // clang 14 writes no signedness flag for enums: -3 reads as the u32 0xfffffffd, as koracle shows it
      col: 0xfffffffd,
    }],
    ['tail_from_sub', { hop_slot: 1 }],
    ['self_tail', { self_key: 1 }],
    ['empty_slot', { oob_key: 9 }],
  ];
  it.each(table)('%s', (obj, vars) => {
    const g = decodeGlobals(loadObjectFile(objectPath(`${obj}.bpf.o`))).globals;
    for (const [k, v] of Object.entries(vars)) expect(plain(g[k]), k).toEqual(v);
  });
});

describe('internal map names follow libbpf internal_map_name()', () => {
  // libbpf's own example: object "my_object_name", section .rodata -> "my_objec.rodata" (8 + 7
  // characters); a suffix shorter than 7 still reserves 7; a name with a second dot gets no prefix.
  it.each([
    ['my_object_name', '.rodata', 'my_objec.rodata'],
    ['my_object_name', '.bss', 'my_objec.bss'],
    ['tail_from_sub', '.data', 'tail_fro.data'],
    ['globals', '.rodata', 'globals.rodata'],
    ['globals', '.rodata.str1.1', '.rodata.str1.1'],
    ['my-obj', '.bss', 'my_obj.bss'], // '-' is not allowed in kernel object names
  ])('%s + %s -> %s', (obj, sec, want) => {
    expect(internalMapName(obj, sec)).toBe(want);
  });
  it('the object name is the file name up to its first dot', () => {
    expect(objectName('/x/y/tail_from_sub.bpf.o')).toBe('tail_from_sub');
    expect(objectName(undefined)).toBe('');
  });
});
