// Bad input ends in an ElfError with a code, a path-like message and (for bytes that are not
// there) the file offset; never a RangeError, never a hang.

import { describe, expect, it } from 'vitest';
import { ElfError, loadObject } from '../../src/elf/index.js';
import { TailjitError } from '../../src/errors.js';
import { readObject } from './goldens.js';

/** Section headers found with plain DataView reads (ELF64 layout), independent of the loader. */
function sections(b: Uint8Array) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shoff = Number(v.getBigUint64(0x28, true));
  const shnum = v.getUint16(0x3c, true);
  const strndx = v.getUint16(0x3e, true);
  const hdr = (i: number) => {
    const at = shoff + 64 * i;
    return { at, name: v.getUint32(at, true), type: v.getUint32(at + 4, true), offset: Number(v.getBigUint64(at + 24, true)), size: Number(v.getBigUint64(at + 32, true)), info: v.getUint32(at + 44, true) };
  };
  const strs = hdr(strndx);
  const name = (off: number) => {
    let s = '';
    for (let i = strs.offset + off; b[i] !== 0; i++) s += String.fromCharCode(b[i]);
    return s;
  };
  return Array.from({ length: shnum }, (_, i) => ({ ...hdr(i), index: i, nameStr: name(hdr(i).name), nameAt: strs.offset + hdr(i).name }));
}

function expectElfError(f: () => unknown, code: string, message?: string | RegExp): ElfError {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(ElfError);
  const e = err as ElfError;
  expect(e.code).toBe(code);
  if (message !== undefined) expect(e.message).toMatch(message);
  return e;
}

const obj = () => readObject('tail_direct.bpf.o').slice();

describe('a truncated ELF is an elf.truncated error with the offset that was being read', () => {
  const full = obj();
  it.each([0, 1, 16, 63, 64, 1000, Math.floor(full.length / 2), full.length - 1])('cut to %i bytes', (n) => {
    let err: unknown;
    try { loadObject(full.subarray(0, n), 'cut.o'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ElfError);
    const e = err as ElfError;
    // The section header table sits at the end of clang's objects, so every cut loses it.
    expect(e.code).toBe('elf.truncated');
    expect(e.offset).toBeTypeOf('number');
    expect(e.location.file).toBe('cut.o');
  });

  it('every cut, at every 8th byte, ends in a TailjitError', () => {
    for (let n = 0; n < full.length; n += 8) {
      expect(() => loadObject(full.subarray(0, n)), `cut at ${n}`).toThrow(TailjitError);
    }
  });
});

describe('a corrupted section header', () => {
  it('section contents outside the file name the section and the offset', () => {
    const b = obj();
    const tc = sections(b).find((s) => s.nameStr === 'tc')!;
    new DataView(b.buffer).setBigUint64(tc.at + 24, BigInt(b.length + 100), true); // sh_offset
    const e = expectElfError(() => loadObject(b), 'elf.truncated', /^section tc: contents: \d+ bytes at offset 0x[0-9a-f]+ run past the end/);
    expect(e.offset).toBe(b.length + 100);
  });

  it('a section header table past the end of the file', () => {
    const b = obj();
    new DataView(b.buffer).setBigUint64(0x28, BigInt(b.length - 8), true); // e_shoff
    expectElfError(() => loadObject(b), 'elf.truncated', /^section header table/);
  });

  it('a wrong section header size', () => {
    const b = obj();
    new DataView(b.buffer).setUint16(0x3a, 40, true); // e_shentsize
    expectElfError(() => loadObject(b), 'elf.format', 'ELF header: section header size 40, expected 64');
  });

  it('a section name outside the name table', () => {
    const b = obj();
    const tc = sections(b).find((s) => s.nameStr === 'tc')!;
    new DataView(b.buffer).setUint32(tc.at, 0x7fffffff, true); // sh_name
    expectElfError(() => loadObject(b), 'elf.truncated', /^section \d+: name: string offset 2147483647 is outside/);
  });

  it('not ELF, not BPF', () => {
    expectElfError(() => loadObject(new TextEncoder().encode('#!/bin/sh\necho hello, this is not an object file at all\n'.repeat(2))), 'elf.not-elf');
    const b = obj();
    new DataView(b.buffer).setUint16(18, 62, true); // e_machine = EM_X86_64
    expectElfError(() => loadObject(b), 'elf.format', 'ELF header: machine 62 is not EM_BPF (247)');
  });
});

describe('random corruption never escapes as anything but a TailjitError', () => {
  it('300 objects with 1-8 bytes overwritten', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const base = readObject('tail_from_sub.bpf.o');
    for (let i = 0; i < 300; i++) {
      const b = base.slice();
      const n = 1 + Math.floor(rnd() * 8);
      for (let k = 0; k < n; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        loadObject(b);
      } catch (e) {
        expect(e, `iteration ${i}: ${(e as Error).message}`).toBeInstanceOf(TailjitError);
      }
    }
  });
});

describe('missing BTF', () => {
  it('an object compiled without -g (programs/nobtf.bpf.o is maps.bpf.c without -g)', () => {
    expectElfError(() => loadObject(readObject('nobtf.bpf.o'), 'nobtf.bpf.o'), 'elf.no-btf', /^no \.BTF section: compile with -g/);
  });
});

describe('relocations', () => {
  /** The first entry of `.reltc`: r_info's low word is the type. */
  const firstReloc = (b: Uint8Array) => sections(b).find((s) => s.nameStr === '.reltc')!;

  it('an unknown relocation type names the section, the relocation, the symbol and the type', () => {
    const b = obj();
    const rel = firstReloc(b);
    new DataView(b.buffer).setUint32(rel.offset + 8, 7, true);
    // tail_direct's first relocation is entry's entry_runs++ (llvm-readelf -r: R_BPF_64_64 entry_runs).
    expectElfError(() => loadObject(b), 'elf.reloc', 'section .reltc: relocation 0 (symbol entry_runs): unknown type 7');
  });

  it('a call relocation type on a ld_imm64', () => {
    const b = obj();
    new DataView(b.buffer).setUint32(firstReloc(b).offset + 8, 10, true); // R_BPF_64_32
    expectElfError(() => loadObject(b), 'elf.reloc', 'section .reltc: relocation 0 (symbol entry_runs): R_BPF_64_32 on a ld_imm64 (expected R_BPF_64_64)');
  });

  it('an unknown relocation type in .rel.BTF', () => {
    const b = obj();
    const rel = sections(b).find((s) => s.nameStr === '.rel.BTF')!;
    new DataView(b.buffer).setUint32(rel.offset + 8, 9, true);
    expectElfError(() => loadObject(b), 'elf.reloc', /^section \.rel\.BTF: relocation 0 \(symbol \w+\): unknown type 9$/);
  });
});

describe('BTF', () => {
  it('an unknown kind is named, not skipped', () => {
    const b = obj();
    const btf = sections(b).find((s) => s.nameStr === '.BTF')!;
    const v = new DataView(b.buffer);
    const hdrLen = v.getUint32(btf.offset + 4, true);
    const typeOff = v.getUint32(btf.offset + 8, true);
    const info = btf.offset + hdrLen + typeOff + 4; // type 1's info word: kind in bits 24-28
    v.setUint32(info, (v.getUint32(info, true) & ~(0x1f << 24)) | (20 << 24), true);
    expectElfError(() => loadObject(b, 'x.o'), 'elf.btf', 'section .BTF: type 1: unknown BTF kind 20');
  });
});

describe('sections', () => {
  it('a program section libbpf has no type for', () => {
    const b = obj();
    const tc = sections(b).find((s) => s.nameStr === 'tc')!;
    b[tc.nameAt + 1] = 'x'.charCodeAt(0); // "tc" -> "tx", in place
    expectElfError(() => loadObject(b), 'elf.section', /^section tx: program \w+: no program type for this section name/);
  });
});
