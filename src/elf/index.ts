// The ELF loader: a clang BPF object in, the programs and maps libbpf 1.1 would hand to the
// kernel out (types.ts).

import { readFileSync } from 'node:fs';
import { Bytes } from './bytes.js';
import { parseBtf, parseBtfExt } from './btf.js';
import { type ElfFile, readElf } from './elf64.js';
import { ElfError } from './errors.js';
import { fixupDatasecs, objectName, readBtfMaps, readGlobalMaps, readMapValues } from './maps.js';
import { applyRelocations, buildPrograms, collectFunctions, isEntryProgram, markHiddenFuncsStatic } from './programs.js';
import type { ObjectFile } from './types.js';

export * from './types.js';
export { ElfError } from './errors.js';
export { Btf, BtfKind, FuncLinkage, VarLinkage, type BtfType } from './btf.js';
export {
  decodeGlobals, decodeValue, findWritableGlobal, globalMaps, integerBytes, isWritableGlobalMap, toHex,
  type GlobalValue, type GlobalsSnapshot, type WritableGlobal,
} from './globals.js';
export { internalMapName, objectName } from './maps.js';

/**
 * Loads a BPF object from its bytes. `path` names it in errors and gives libbpf's object
 * name (the file name up to its first dot), which prefixes the global-data map names.
 */
export function loadObject(bytes: Uint8Array, path?: string): ObjectFile {
  const elf = readElf(bytes, path);
  const loc = path === undefined ? {} : { file: path };
  const btfSec = elf.section('.BTF');
  if (!btfSec) throw new ElfError('elf.no-btf', 'no .BTF section: compile with -g (maps, globals and function info come from BTF)', loc);
  const extSec = elf.section('.BTF.ext');
  if (!extSec) throw new ElfError('elf.no-btf', 'no .BTF.ext section: compile with -g (function and line info come from it)', loc);
  const rawBtf = withFile(path, () => parseBtf(btfSec.data));
  const btf = withFile(path, () => markHiddenFuncsStatic(fixupDatasecs(rawBtf, elf), elf));
  const ext = withFile(path, () => parseBtfExt(extSec.data, (off, what) => btf.str(off, what)));

  const funcs = collectFunctions(elf);
  let maps = [...readBtfMaps(elf, btf), ...readGlobalMaps(elf, btf, objectName(path))];
  maps = readMapValues(elf, maps, (name, shndx, value) => isEntryProgram(funcs, name, shndx, value));
  applyRelocations(elf, funcs, maps);
  const programs = buildPrograms({ elf, btf, ext, maps, license: license(elf) }, funcs);
  return Object.freeze({
    ...(path !== undefined ? { path } : {}),
    programs: Object.freeze(programs),
    maps: Object.freeze(maps.map((m) => m.spec)),
    btf,
  });
}

export function loadObjectFile(path: string): ObjectFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ElfError('elf.io', `cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
  return loadObject(bytes, path);
}

/** The `license` section's string (libbpf keeps at most 63 characters). */
function license(elf: ElfFile): string {
  const s = elf.section('license');
  if (!s || s.size === 0) return '';
  const d = s.data.data;
  const end = d.indexOf(0);
  return new TextDecoder().decode(d.subarray(0, end < 0 ? d.length : end)).slice(0, 63);
}

/** Adds the file name to errors raised where only bytes were at hand. */
function withFile<T>(path: string | undefined, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ElfError && path !== undefined && e.location.file === undefined) {
      throw new ElfError(e.code, e.message, { ...e.location, file: path }, e.offset);
    }
    throw e;
  }
}

export { Bytes };
export { writeObject, type WriteFunc, type WriteGlobal, type WriteMap, type WriteObjectSpec, type WriteReloc } from './write.js';
