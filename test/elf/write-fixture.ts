// The object test/elf/written/written.bpf.o was written from (write.test.ts checks that the
// writer still writes it byte for byte): `entry` counts its runs, calls `sub` (which adds 100 to
// `acc`, 5 in .data), then tail-calls jmp_table[key] with the key read from a global (an
// indirect tail call) and, if that fails, jmp_table[1] (a direct one, poked); `target` and
// `other` count their runs and return 42 and 7.

import { MapType } from '../../src/elf/types.js';
import type { WriteObjectSpec } from '../../src/elf/write.js';
import * as I from '../../src/fuzz/insns.js';

const count = (g: string) => ({ insns: [I.ldReloc(1), I.ldxDw(2, 1, 0), I.alu(true, 'add', 2, null, 1), I.stxDw(1, 2, 0)], global: g });

export const WRITTEN: WriteObjectSpec = {
  programs: [
    {
      name: 'entry',
      insns: [
        I.mov(6, 1), ...count('runs_entry').insns, // 0..4
        I.mov(1, 6), I.callLocal(), I.mov(7, 0), // 5..7: r7 = sub()
        I.mov(1, 6), I.ldReloc(2), I.ldReloc(3), I.ldxW(3, 3, 0), I.callHelper(12), // 8..12: tail call jmp_table[key]
        I.mov(1, 6), I.ldReloc(2), I.movImm(3, 1), I.callHelper(12), // 13..16: tail call jmp_table[1]
        I.mov(0, 7), I.exit(), // 17..18
      ],
      relocs: [{ insn: 1, global: 'runs_entry' }, { insn: 6, call: 'sub' }, { insn: 9, map: 'jmp_table' }, { insn: 10, global: 'key' }, { insn: 14, map: 'jmp_table' }],
    },
    { name: 'target', insns: [...count('runs_target').insns, I.movImm(0, 42), I.exit()], relocs: [{ insn: 0, global: 'runs_target' }] },
    { name: 'other', insns: [...count('runs_other').insns, I.movImm(0, 7), I.exit()], relocs: [{ insn: 0, global: 'runs_other' }] },
  ],
  subprograms: [
    { name: 'sub', insns: [I.ldReloc(1), I.ldxDw(0, 1, 0), I.alu(true, 'add', 0, null, 100), I.exit()], relocs: [{ insn: 0, global: 'acc' }] },
  ],
  maps: [{ name: 'jmp_table', type: MapType.PROG_ARRAY, maxEntries: 2 }],
  globals: [
    { name: 'runs_entry', section: '.bss', size: 8 },
    { name: 'runs_target', section: '.bss', size: 8 },
    { name: 'runs_other', section: '.bss', size: 8 },
    { name: 'key', section: '.bss', size: 4 },
    { name: 'acc', section: '.data', size: 8, init: 5n },
  ],
};
