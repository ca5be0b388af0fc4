// The DWARF a debugger needs to name JIT-ed code and show its source lines: one compile unit
// (.debug_info/.debug_abbrev, DWARF 4) with a subprogram per function image, its line program
// (.debug_line, DWARF 4) mapping x86 addresses to the BPF source lines of BTF line_info, and
// call frame information (.debug_frame, version 1) so that gdb unwinds through the JIT's frames
// and the kernel text between them.

import { ByteWriter } from './bytes.js';

// DWARF constants (DWARF 4 standard, §7).
const DW_TAG_compile_unit = 0x11;
const DW_TAG_subprogram = 0x2e;
const DW_CHILDREN = { no: 0, yes: 1 } as const;
const DW_AT = { name: 0x03, stmt_list: 0x10, low_pc: 0x11, high_pc: 0x12, language: 0x13, comp_dir: 0x1b, producer: 0x25, external: 0x3f } as const;
const DW_FORM = { addr: 0x01, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08, sec_offset: 0x17, flag_present: 0x19 } as const;
const DW_LANG_C99 = 0x0c;

const DW_LNS = { copy: 1, advance_pc: 2, advance_line: 3, set_file: 4, set_column: 5, set_prologue_end: 10 } as const;
const DW_LNE = { end_sequence: 1, set_address: 2 } as const;

export const DW_CFA = {
  advance_loc: 0x40, offset: 0x80, restore: 0xc0, nop: 0x00, advance_loc1: 0x02, advance_loc2: 0x03, advance_loc4: 0x04,
  undefined: 0x07, remember_state: 0x0a, restore_state: 0x0b, def_cfa: 0x0c, def_cfa_register: 0x0d, def_cfa_offset: 0x0e,
} as const;

/** DWARF register numbers of x86-64 (System V psABI, table 3.36). */
export const DWARF_REG = { rsp: 7, rbp: 6, ra: 16 } as const;

export interface SubprogramInfo {
  readonly name: string;
  readonly low: bigint;
  readonly size: number;
}

export interface CompileUnit {
  readonly name: string;
  readonly compDir: string;
  readonly producer: string;
  readonly low: bigint;
  readonly high: bigint;
  readonly subprograms: readonly SubprogramInfo[];
}

export interface LineRow {
  readonly address: bigint;
  /** Index into the line program's file list (0-based here; DWARF 4 numbers files from 1). */
  readonly file: number;
  readonly line: number;
  readonly column: number;
  /** Where the function's body starts (DW_LNS_set_prologue_end: gdb puts `break FUNC` there). */
  readonly prologueEnd?: boolean;
}

/** One contiguous range of code: its rows in address order, ending at `end`. */
export interface LineSequence {
  readonly rows: readonly LineRow[];
  readonly end: bigint;
}

export function debugAbbrev(): Uint8Array {
  const w = new ByteWriter();
  const attrs = (list: readonly (readonly [number, number])[]) => {
    for (const [a, f] of list) w.uleb(a).uleb(f);
    w.uleb(0).uleb(0);
  };
  w.uleb(1).uleb(DW_TAG_compile_unit).u8(DW_CHILDREN.yes);
  attrs([[DW_AT.producer, DW_FORM.string], [DW_AT.language, DW_FORM.data2], [DW_AT.name, DW_FORM.string], [DW_AT.comp_dir, DW_FORM.string],
    [DW_AT.low_pc, DW_FORM.addr], [DW_AT.high_pc, DW_FORM.data8], [DW_AT.stmt_list, DW_FORM.sec_offset]]);
  w.uleb(2).uleb(DW_TAG_subprogram).u8(DW_CHILDREN.no);
  attrs([[DW_AT.name, DW_FORM.string], [DW_AT.low_pc, DW_FORM.addr], [DW_AT.high_pc, DW_FORM.data4], [DW_AT.external, DW_FORM.flag_present]]);
  w.uleb(0);
  return w.finish();
}

/** The compile unit (abbreviations as debugAbbrev() writes them; its line program at offset 0). */
export function debugInfo(cu: CompileUnit): Uint8Array {
  const w = new ByteWriter();
  const done = w.lengthU32();
  w.u16(4).u32(0).u8(8);
  w.uleb(1).cstr(cu.producer).u16(DW_LANG_C99).cstr(cu.name).cstr(cu.compDir).u64(cu.low).u64(cu.high - cu.low).u32(0);
  for (const s of cu.subprograms) w.uleb(2).cstr(s.name).u64(s.low).u32(s.size);
  w.uleb(0);
  done();
  return w.finish();
}

/** A DWARF 4 line program; `files` are names relative to the compile unit's directory (or absolute). */
export function debugLine(files: readonly string[], sequences: readonly LineSequence[]): Uint8Array {
  const w = new ByteWriter();
  const done = w.lengthU32();
  w.u16(4);
  const headerDone = w.lengthU32();
  // minimum_instruction_length 1, maximum_operations_per_instruction 1, default_is_stmt 1,
  // line_base -5, line_range 14, opcode_base 13 and the standard opcodes' argument counts.
  w.u8(1).u8(1).u8(1).u8(-5 & 0xff).u8(14).u8(13);
  for (const n of [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1]) w.u8(n);
  w.u8(0); // no include directories: names are relative to DW_AT_comp_dir or absolute
  for (const f of files) w.cstr(f).uleb(0).uleb(0).uleb(0);
  w.u8(0);
  headerDone();
  const setAddress = (a: bigint) => w.u8(0).uleb(9).u8(DW_LNE.set_address).u64(a);
  for (const seq of sequences) {
    let file = 1;
    let line = 1;
    let column = 0;
    for (const r of seq.rows) {
      setAddress(r.address);
      if (r.file + 1 !== file) w.u8(DW_LNS.set_file).uleb((file = r.file + 1));
      if (r.line !== line) {
        w.u8(DW_LNS.advance_line).sleb(r.line - line);
        line = r.line;
      }
      if (r.column !== column) w.u8(DW_LNS.set_column).uleb((column = r.column));
      if (r.prologueEnd) w.u8(DW_LNS.set_prologue_end);
      w.u8(DW_LNS.copy);
    }
    setAddress(seq.end);
    w.u8(0).uleb(1).u8(DW_LNE.end_sequence);
  }
  done();
  return w.finish();
}

/** Call frame instructions of one function: rules that change at offsets from its start. */
export class CfiProgram {
  readonly #w = new ByteWriter();
  #at = 0;

  /** Moves to `offset` from the function's start (which must not go backwards). */
  at(offset: number): this {
    const d = offset - this.#at;
    if (d < 0) throw new RangeError('call frame instructions must go forward');
    if (d === 0) return this;
    if (d < 0x40) this.#w.u8(DW_CFA.advance_loc | d);
    else if (d < 0x100) this.#w.u8(DW_CFA.advance_loc1).u8(d);
    else if (d < 0x10000) this.#w.u8(DW_CFA.advance_loc2).u16(d);
    else this.#w.u8(DW_CFA.advance_loc4).u32(d);
    this.#at = offset;
    return this;
  }

  defCfa(reg: number, offset: number): this {
    this.#w.u8(DW_CFA.def_cfa).uleb(reg).uleb(offset);
    return this;
  }

  defCfaOffset(offset: number): this {
    this.#w.u8(DW_CFA.def_cfa_offset).uleb(offset);
    return this;
  }

  defCfaRegister(reg: number): this {
    this.#w.u8(DW_CFA.def_cfa_register).uleb(reg);
    return this;
  }

  /** `reg` is saved at CFA + factored * data_alignment_factor (-8). */
  offset(reg: number, factored: number): this {
    if (reg < 0x40) this.#w.u8(DW_CFA.offset | reg).uleb(factored);
    else throw new RangeError('register number too large for DW_CFA_offset');
    return this;
  }

  restore(reg: number): this {
    this.#w.u8(DW_CFA.restore | reg);
    return this;
  }

  undefined(reg: number): this {
    this.#w.u8(DW_CFA.undefined).uleb(reg);
    return this;
  }

  remember(): this {
    this.#w.u8(DW_CFA.remember_state);
    return this;
  }

  restoreState(): this {
    this.#w.u8(DW_CFA.restore_state);
    return this;
  }

  bytes(): Uint8Array {
    return this.#w.finish();
  }
}

export interface FrameDescription {
  readonly low: bigint;
  readonly size: number;
  readonly cfi: CfiProgram;
}

/**
 * .debug_frame: one CIE whose initial rules are those at a function's first byte (CFA = rsp + 8,
 * the return address at CFA - 8), and an FDE per function.
 */
export function debugFrame(fdes: readonly FrameDescription[]): Uint8Array {
  const w = new ByteWriter();
  const cie = w.lengthU32();
  w.u32(0xffffffff).u8(1).u8(0).uleb(1).sleb(-8).u8(DWARF_REG.ra);
  w.u8(DW_CFA.def_cfa).uleb(DWARF_REG.rsp).uleb(8);
  w.u8(DW_CFA.offset | DWARF_REG.ra).uleb(1);
  w.align(8, DW_CFA.nop);
  cie();
  for (const f of fdes) {
    const fde = w.lengthU32();
    w.u32(0).u64(f.low).u64(BigInt(f.size)).bytes(f.cfi.bytes());
    w.align(8, DW_CFA.nop);
    fde();
  }
  return w.finish();
}
