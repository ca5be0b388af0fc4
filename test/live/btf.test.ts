// The BTF written for BPF_BTF_LOAD reads back, through src/elf's own BTF parser (written from
// include/uapi/linux/btf.h independently of the encoder), as the same types with the same ids.
// Kernel acceptance is covered by the live scenarios (a refused BTF would leave them without
// func_info, and koracle's xlated and JIT bytes would still match, so it is checked here too).

import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Bytes, loadObjectFile } from '../../src/elf/index.js';
import { parseBtf } from '../../src/elf/btf.js';
import { encodeBtf, lineInfoRecords } from '../../emu/live/btf.js';
import { liveAvailability, LiveObject } from '../../emu/live/index.js';

const ROOT = join(import.meta.dirname, '../..');
const OBJECTS = ['programs/globals.bpf.o', 'programs/calls.bpf.o', 'programs/tail_from_sub.bpf.o', 'programs/selftests/tailcall_bpf2bpf6.bpf.o', 'programs/sections.bpf.o'];

describe('encodeBtf', () => {
  test.each(OBJECTS)('%s: types round-trip through the parser', (rel) => {
    const obj = loadObjectFile(join(ROOT, rel));
    const enc = encodeBtf(obj.btf!);
    const back = parseBtf(new Bytes(enc.bytes));
    expect(back.types.length).toBe(obj.btf!.types.length);
    expect(back.types).toEqual(obj.btf!.types);
  });

  test('line_info records point at the file name and source text in the string table', () => {
    const obj = loadObjectFile(join(ROOT, 'programs/calls.bpf.o'));
    const lines = obj.programs[0].lineInfo;
    const enc = encodeBtf(obj.btf!, lines.flatMap((l) => [l.file, l.text]));
    const rec = new DataView(lineInfoRecords(lines, enc.strings).buffer);
    const back = parseBtf(new Bytes(enc.bytes));
    lines.forEach((l, i) => {
      expect(rec.getUint32(i * 16, true)).toBe(l.insnOff);
      expect(back.str(rec.getUint32(i * 16 + 4, true), 'file')).toBe(l.file);
      expect(back.str(rec.getUint32(i * 16 + 8, true), 'line')).toBe(l.text);
      // bpf_line_info.line_col: line << 10 | column (include/uapi/linux/bpf.h BPF_LINE_INFO_LINE_NUM)
      expect(rec.getUint32(i * 16 + 12, true) >>> 10).toBe(l.line);
    });
  });

  test.skipIf(!liveAvailability().ok).each(OBJECTS)('%s: the kernel accepts the BTF', (rel) => {
    const lo = LiveObject.load(loadObjectFile(join(ROOT, rel)));
    try {
      expect(lo.btfError).toBeUndefined();
      expect(lo.btfFd).toBeGreaterThan(0);
    } finally {
      lo.close();
    }
  });
});
