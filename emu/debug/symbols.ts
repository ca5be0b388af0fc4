// `tailjit symbols`: an ELF file for gdb's `symbol-file`, at the addresses the gdbserver's machine
// uses (the same load, which is deterministic): a FUNC symbol for every program and subprogram
// image, thunk, helper stub and the test run's entry stub; DWARF line rows from the BPF
// instructions' BTF line_info to their first x86 byte; and call frame information for the JIT's
// frames (tailcalls.md §1: nop5, xor/nop2, push rbp, mov rbp,rsp; CFA = rbp + 16 from the landing
// at +11 on, rsp + 8 after the epilogue's leave) and for the kernel text between them.

import { ENTRY_STUB } from '../kernel/text.js';
import type { CodeMap, FuncImage, GlobalVariable, KernelSymbol } from './code-map.js';
import { CfiProgram, DWARF_REG, debugAbbrev, debugFrame, debugInfo, debugLine, type FrameDescription, type LineRow, type LineSequence } from './elf/dwarf.js';
import { SHF, SHT, writeElf, type SectionSpec, type SymbolSpec } from './elf/writer.js';

export interface SymbolFileOptions {
  /** DW_AT_comp_dir: where the line_info's relative file names (`./prog.bpf.c`) are found. */
  readonly compDir: string;
  /** DW_AT_name of the compile unit (default: the first source file of the line_info). */
  readonly name?: string;
  readonly producer?: string;
  /** Global variables, as OBJECT symbols (gdb: `x/wx &direct_runs`). */
  readonly variables?: readonly GlobalVariable[];
}

export interface SymbolFile {
  readonly bytes: Uint8Array;
  readonly symbols: readonly { readonly name: string; readonly address: bigint; readonly size: number }[];
  readonly lineRows: number;
  readonly files: readonly string[];
}

const KERNEL_SECTION = '.text';
const IMAGE_SECTION = '.text.bpf';
const DATA_SECTION = '.data.bpf';

export function buildSymbolFile(code: CodeMap, options: SymbolFileOptions): SymbolFile {
  const kernel = code.kernelSymbols.filter((s) => s.kind !== 'other' || s.size > 0);
  const images = [...code.images].sort((a, b) => (a.address < b.address ? -1 : 1));
  const sections: SectionSpec[] = [];
  const symbols: SymbolSpec[] = [];
  const span = (lo: bigint, hi: bigint) => ({ addr: lo, size: hi - lo });
  if (kernel.length) {
    const allKernel = code.kernelSymbols;
    const lo = allKernel[0].address;
    const hi = allKernel.reduce((m, s) => (s.address + BigInt(Math.max(s.size, 1)) > m ? s.address + BigInt(Math.max(s.size, 1)) : m), lo);
    sections.push({ name: KERNEL_SECTION, type: SHT.NOBITS, flags: SHF.ALLOC | SHF.EXECINSTR, ...span(lo, hi) });
    for (const s of allKernel) symbols.push({ name: s.name, value: s.address, size: BigInt(s.size), section: KERNEL_SECTION, type: 'func', bind: 'global' });
  }
  if (images.length) {
    const lo = images[0].address;
    const last = images[images.length - 1];
    sections.push({ name: IMAGE_SECTION, type: SHT.NOBITS, flags: SHF.ALLOC | SHF.EXECINSTR, ...span(lo, last.address + BigInt(last.size)) });
    for (const i of images) symbols.push({ name: i.symbol, value: i.address, size: BigInt(i.size), section: IMAGE_SECTION, type: 'func', bind: 'global' });
  }
  const vars = [...(options.variables ?? [])].sort((a, b) => (a.address < b.address ? -1 : 1));
  if (vars.length) {
    const last = vars[vars.length - 1];
    sections.push({ name: DATA_SECTION, type: SHT.NOBITS, flags: SHF.ALLOC | SHF.WRITE, ...span(vars[0].address, last.address + BigInt(Math.max(last.size, 1))), align: 8n });
    for (const v of vars) symbols.push({ name: v.name, value: v.address, size: BigInt(v.size), section: DATA_SECTION, type: 'object', bind: 'global' });
  }
  const { files, sequences, rows } = lineTable(code, images);
  if (images.length) {
    const lo = images[0].address;
    const last = images[images.length - 1];
    sections.push(
      { name: '.debug_abbrev', type: SHT.PROGBITS, data: debugAbbrev() },
      {
        name: '.debug_info', type: SHT.PROGBITS,
        data: debugInfo({
          name: options.name ?? files[0] ?? images[0].prog.name, compDir: options.compDir, producer: options.producer ?? 'tailjit symbols',
          low: lo, high: last.address + BigInt(last.size),
          subprograms: images.map((i) => ({ name: i.symbol, low: i.address, size: i.size })),
        }),
      },
      { name: '.debug_line', type: SHT.PROGBITS, data: debugLine(files, sequences) },
    );
  }
  const fdes = [...images.map((i) => imageFrame(i, code.tailCallOffset)), ...kernel.flatMap((s) => kernelFrame(s))];
  if (fdes.length) sections.push({ name: '.debug_frame', type: SHT.PROGBITS, data: debugFrame(fdes), align: 8n });
  return {
    bytes: writeElf(sections, symbols),
    symbols: symbols.map((s) => ({ name: s.name, address: s.value, size: Number(s.size) })),
    lineRows: rows,
    files,
  };
}

/** Per image: a row at each BPF instruction whose source position differs from the previous one. */
function lineTable(code: CodeMap, images: readonly FuncImage[]): { files: string[]; sequences: LineSequence[]; rows: number } {
  const files: string[] = [];
  const fileIndex = (f: string) => {
    let i = files.indexOf(f);
    if (i < 0) i = files.push(f) - 1;
    return i;
  };
  const sequences: LineSequence[] = [];
  let count = 0;
  for (const image of images) {
    const rows: LineRow[] = [];
    let last = '';
    image.insns.forEach((_, k) => {
      const slot = image.func.firstSlot + image.func.insnSlots[k];
      const l = code.line(image.prog, slot);
      if (!l || l.line === 0) return;
      const key = `${l.file}:${l.line}:${l.column}`;
      const row = { file: fileIndex(l.file), line: l.line, column: l.column };
      if (rows.length === 0) {
        // The prologue belongs to the function's first line; its body starts at instruction 0,
        // which both a call (through the prologue) and a tail call (landing at +11) reach.
        rows.push({ address: image.address, ...row });
        if (k === 0 && image.func.addrs[0] > 0) rows.push({ address: code.insnAddress(image, 0), ...row, prologueEnd: true });
      } else if (key !== last) {
        rows.push({ address: code.insnAddress(image, k), ...row });
      }
      last = key;
    });
    if (rows.length === 0) continue;
    count += rows.length;
    sequences.push({ rows, end: image.address + BigInt(image.size) });
  }
  return { files, sequences, rows: count };
}

/**
 * nop5 (0), the filler (5), push rbp (landing - 4), mov rbp,rsp (landing - 3); the body from
 * the landing (X86_TAIL_CALL_OFFSET: 11 on 5.10 and 6.1, 12 on 6.18) on has CFA = rbp + 16.
 */
function imageFrame(image: FuncImage, landing: number): FrameDescription {
  const cfi = new CfiProgram();
  cfi.at(landing - 3).defCfaOffset(16).offset(DWARF_REG.rbp, 2);
  cfi.at(landing).defCfaRegister(DWARF_REG.rbp);
  const ret = image.returnOffset;
  if (ret !== null && ret < image.size) {
    // After `leave`: rsp at the return address again, rbp the caller's; back to the body's rules
    // after the ret (or `jmp return_thunk`) when more code follows the epilogue.
    const retLen = image.func.image[ret] === 0xe9 ? 5 : 1;
    cfi.at(ret).remember().defCfa(DWARF_REG.rsp, 8).restore(DWARF_REG.rbp);
    if (ret + retLen < image.size) cfi.at(ret + retLen).restoreState();
  }
  return { low: image.address, size: image.size, cfi };
}

/**
 * Kernel text: a called function has the CIE's rules (CFA = rsp + 8). The rcx retpoline is
 * jumped to by an indirect tail call with rsp at the frame base (saved rbp, then the return
 * address); the rdx one is called by the entry stub; both push once more (their `call`). The
 * entry stub is the outermost frame: no return address.
 */
function kernelFrame(s: KernelSymbol): FrameDescription[] {
  if (s.size === 0) return [];
  const cfi = new CfiProgram();
  if (s.name === '__x86_indirect_thunk_rcx') {
    cfi.defCfaOffset(16).offset(DWARF_REG.rbp, 2).at(5).defCfaOffset(24);
  } else if (s.name === '__x86_indirect_thunk_rdx') {
    cfi.at(5).defCfaOffset(16);
  } else if (s.kind === 'entry') {
    cfi.undefined(DWARF_REG.ra);
    // push rdi, rsi, rdx, rcx at 0..3; add rsp, 0x20 before the stop address.
    cfi.at(1).defCfaOffset(16).at(2).defCfaOffset(24).at(3).defCfaOffset(32).at(4).defCfaOffset(40).at(ENTRY_STUB.stop).defCfaOffset(8);
  }
  return [{ low: s.address, size: s.size, cfi }];
}
