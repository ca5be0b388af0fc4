// Programs as libbpf 1.1 prepares them for BPF_PROG_LOAD: every FUNC symbol of an executable
// section is a function; those outside .text are programs. Map and global-data references are
// resolved in ld_imm64 (bpf_object__relocate_data), and each program gets the .text functions
// it calls appended once, depth first in the order the calls are met
// (bpf_object__reloc_code / append_subprog_code), with `call local` immediates rewritten to
// the new layout. func_info and line_info follow the functions into the new layout.

import { CallSrc, Class, JmpOp, LD_IMM64, PseudoSrc } from '../isa/opcode.js';
import { decode, type Insn } from '../isa/insn.js';
import { TailjitError } from '../errors.js';
import { type Btf, type BtfExt, FuncLinkage } from './btf.js';
import { type ElfFile, type ElfSymbol, type Relocation, type Section, SHF_EXECINSTR, SHN_UNDEF, SHT, STB, STT, STV, readRelocations } from './elf64.js';
import { ElfError, hex } from './errors.js';
import type { LoadedMap } from './maps.js';
import { KNOWN_SECTIONS, progTypeOfSection } from './sections.js';
import type { FuncInfo, LineInfo, ProgramSpec } from './types.js';

const R_BPF_64_64 = 1;
const R_BPF_64_ABS64 = 2;
const R_BPF_64_ABS32 = 3;
const R_BPF_64_NODYLD32 = 4;
const R_BPF_64_32 = 10;
const CALL = Class.JMP | JmpOp.CALL;

const RELOC_NAMES: Record<number, string> = {
  0: 'R_BPF_NONE', 1: 'R_BPF_64_64', 2: 'R_BPF_64_ABS64', 3: 'R_BPF_64_ABS32', 4: 'R_BPF_64_NODYLD32', 10: 'R_BPF_64_32',
};

/** One 8-byte slot (`struct bpf_insn`), mutable while relocating. */
interface Slot { code: number; dst: number; src: number; off: number; imm: number }

/** A function of an executable section, with its relocations applied to its own slots. */
interface Func {
  readonly name: string;
  readonly section: Section;
  /** First slot within the section. */
  readonly start: number;
  readonly count: number;
  readonly slots: Slot[];
  /** `call` relocations by slot within the function: the target symbol's byte offset. */
  readonly callRelocs: Map<number, number>;
}

export interface ProgramContext {
  readonly elf: ElfFile;
  readonly btf: Btf;
  readonly ext: BtfExt;
  readonly maps: readonly LoadedMap[];
  readonly license: string;
}

/** Functions of every executable section, sorted by section and offset as libbpf sorts them. */
export function collectFunctions(elf: ElfFile): Func[] {
  const funcs: Func[] = [];
  for (const sec of elf.sections) {
    if (sec.type !== SHT.PROGBITS || (sec.flags & SHF_EXECINSTR) === 0 || sec.size === 0) continue;
    if (sec.size % 8 !== 0) throw new ElfError('elf.program', `section ${sec.name}: size ${sec.size} is not a multiple of 8`, loc(elf), sec.offset);
    const slots = readSlots(sec);
    for (const sym of elf.symbols) {
      if (sym.shndx !== sec.index || sym.type !== STT.FUNC) continue;
      const w = `section ${sec.name}: function ${sym.name}`;
      if (sym.value % 8 !== 0 || sym.size % 8 !== 0 || sym.value + sym.size > sec.size) {
        throw new ElfError('elf.program', `${w}: ${sym.size} bytes at offset ${sym.value} are not whole instructions inside the section (${sec.size} bytes)`, loc(elf), sec.offset + Math.min(sym.value, sec.size));
      }
      if (sec.name !== '.text' && sym.bind === STB.LOCAL) {
        throw new ElfError('elf.program', `${w}: a static function cannot be a program (libbpf refuses it)`, loc(elf));
      }
      const start = sym.value / 8;
      const count = sym.size / 8;
      const own = slots.slice(start, start + count).map((s) => ({ ...s }));
      checkFraming(elf, sec, sym.name, own);
      funcs.push({ name: sym.name, section: sec, start, count, slots: own, callRelocs: new Map() });
    }
  }
  funcs.sort((a, b) => a.section.index - b.section.index || a.start - b.start);
  return funcs;
}

function readSlots(sec: Section): Slot[] {
  const out: Slot[] = [];
  const d = sec.data;
  for (let at = 0; at < sec.size; at += 8) {
    const regs = d.u8(at + 1, `section ${sec.name}: instruction ${at / 8}`);
    out.push({
      code: d.u8(at, `section ${sec.name}: instruction ${at / 8}`), dst: regs & 0xf, src: regs >> 4,
      off: (d.u16(at + 2, 'off') << 16) >> 16, imm: d.i32(at + 4, 'imm'),
    });
  }
  return out;
}

/** A function must hold whole instructions: no ld_imm64 cut in half at its end. */
function checkFraming(elf: ElfFile, sec: Section, name: string, slots: readonly Slot[]): void {
  try {
    decode(encodeSlots(slots), { insn: 0 });
  } catch (e) {
    if (!(e instanceof TailjitError)) throw e;
    throw new ElfError('elf.program', `section ${sec.name}: function ${name}: ${e.message}`, { ...loc(elf), ...(e.location.insn !== undefined ? { insn: e.location.insn } : {}) });
  }
}

function encodeSlots(slots: readonly Slot[]): Uint8Array {
  const out = new Uint8Array(slots.length * 8);
  const v = new DataView(out.buffer);
  slots.forEach((s, i) => {
    v.setUint8(i * 8, s.code);
    v.setUint8(i * 8 + 1, ((s.src & 0xf) << 4) | (s.dst & 0xf));
    v.setInt16(i * 8 + 2, s.off, true);
    v.setInt32(i * 8 + 4, s.imm, true);
  });
  return out;
}

const loc = (elf: ElfFile) => (elf.file === undefined ? {} : { file: elf.file });

// ---------------------------------------------------------------------- relocations

/** Applies every relocation of the executable sections to the functions' slots. */
export function applyRelocations(elf: ElfFile, funcs: Func[], maps: readonly LoadedMap[]): void {
  const text = elf.section('.text');
  for (const rel of elf.sections) {
    if (rel.type !== SHT.REL && rel.type !== SHT.RELA) continue;
    const target = elf.sections[rel.info];
    if (!target) throw new ElfError('elf.format', `section ${rel.name}: sh_info ${rel.info} names no section`, loc(elf), rel.offset);
    if (target.name === '.BTF' || target.name === '.BTF.ext') {
      checkDataRelocTypes(elf, rel);
      continue;
    }
    if ((target.flags & SHF_EXECINSTR) === 0) continue; // debug info, .maps (maps.ts): not code
    for (const r of readRelocations(elf, rel)) {
      const sym = elf.symbols[r.symbol];
      const symName = sym.type === STT.SECTION && !sym.name ? elf.sections[sym.shndx]?.name ?? '?' : sym.name;
      const w = `section ${rel.name}: relocation ${r.index} (symbol ${symName || r.symbol})`;
      if (r.offset % 8 !== 0 || r.offset >= target.size) throw new ElfError('elf.reloc', `${w}: offset ${r.offset} is not an instruction of section ${target.name}`, loc(elf), rel.data.base + r.index * 16);
      const slot = r.offset / 8;
      const f = funcs.find((x) => x.section === target && x.start <= slot && slot < x.start + x.count);
      if (!f) continue; // libbpf: code outside any function (an overridden weak function)
      relocateOne(elf, f, slot - f.start, r, sym, w, text, maps);
    }
  }
}

function checkDataRelocTypes(elf: ElfFile, rel: Section): void {
  for (const r of readRelocations(elf, rel)) {
    if (r.type === R_BPF_64_ABS64 || r.type === R_BPF_64_ABS32 || r.type === R_BPF_64_NODYLD32) continue;
    const sym = elf.symbols[r.symbol];
    throw new ElfError('elf.reloc', `section ${rel.name}: relocation ${r.index} (symbol ${sym.name || r.symbol}): unknown type ${r.type}`, loc(elf), rel.data.base + r.index * 16 + 8);
  }
}

function relocateOne(elf: ElfFile, f: Func, i: number, r: Relocation, sym: ElfSymbol, w: string, text: Section | undefined, maps: readonly LoadedMap[]): void {
  const ins = f.slots[i];
  const at = { ...loc(elf), insn: i };
  if (r.type !== R_BPF_64_64 && r.type !== R_BPF_64_32) throw new ElfError('elf.reloc', `${w}: unknown type ${r.type}`, at);
  if (ins.code === CALL) {
    if (r.type !== R_BPF_64_32) throw new ElfError('elf.reloc', `${w}: ${RELOC_NAMES[r.type]} on a call (expected R_BPF_64_32)`, at);
    if (ins.src !== CallSrc.LOCAL) throw new ElfError('elf.reloc', `${w}: relocated call with src ${ins.src} is not a bpf2bpf call (kfuncs and externs are not supported)`, at);
    if (!text || sym.shndx !== text.index) throw new ElfError('elf.reloc', `${w}: call into section ${elf.sections[sym.shndx]?.name ?? sym.shndx}: subprograms must be in .text`, at);
    if (sym.value % 8 !== 0) throw new ElfError('elf.reloc', `${w}: call target offset ${sym.value} is not an instruction`, at);
    f.callRelocs.set(i, sym.value);
    return;
  }
  if (ins.code !== LD_IMM64) throw new ElfError('elf.reloc', `${w}: on opcode ${hex(ins.code)}, which is neither ld_imm64 nor call`, at);
  if (r.type !== R_BPF_64_64) throw new ElfError('elf.reloc', `${w}: ${RELOC_NAMES[r.type]} on a ld_imm64 (expected R_BPF_64_64)`, at);
  if (sym.shndx === SHN_UNDEF) throw new ElfError('elf.reloc', `${w}: extern symbols (kconfig, ksyms) are not supported`, at);
  if (text && sym.shndx === text.index) throw new ElfError('elf.reloc', `${w}: function addresses (BPF_PSEUDO_FUNC) are not supported`, at);
  const hi = f.slots[i + 1];
  const mapsSec = elf.section('.maps');
  if (mapsSec && sym.shndx === mapsSec.index) {
    const m = maps.findIndex((x) => x.sectionIndex === mapsSec.index && x.sectionOffset === sym.value);
    if (m < 0) throw new ElfError('elf.reloc', `${w}: no map is defined at offset ${sym.value} of .maps`, at);
    ins.src = PseudoSrc.MAP_FD;
    ins.imm = m;
    return;
  }
  const m = maps.findIndex((x) => x.sectionIndex === sym.shndx && x.spec.section !== undefined);
  if (m < 0) throw new ElfError('elf.reloc', `${w}: reference into section ${elf.sections[sym.shndx]?.name ?? sym.shndx}, which is neither .maps nor global data`, at);
  // libbpf: insn[1].imm = insn[0].imm + sym->st_value (the offset in the section).
  hi.imm = (ins.imm + sym.value) | 0;
  ins.src = PseudoSrc.MAP_VALUE;
  ins.imm = m;
}

// ---------------------------------------------------------------------- linking

const isSubprogCall = (s: Slot) => s.code === CALL && s.src === CallSrc.LOCAL && s.dst === 0 && s.off === 0;
const isPseudoFunc = (s: Slot) => s.code === LD_IMM64 && s.src === PseudoSrc.FUNC;

interface Linked { readonly slots: Slot[]; readonly order: readonly { func: Func; base: number }[] }

/** bpf_object__reloc_code for one main program. */
function link(elf: ElfFile, main: Func, textFuncs: readonly Func[]): Linked {
  const slots = main.slots.map((s) => ({ ...s }));
  const placed = new Map<Func, number>([[main, 0]]);
  const order = [{ func: main, base: 0 }];
  const relocCode = (prog: Func, base: number): void => {
    for (let i = 0; i < prog.count; i++) {
      const ins = slots[base + i];
      if (!isSubprogCall(ins) && !isPseudoFunc(ins)) continue;
      const w = `section ${prog.section.name}: function ${prog.name}: instruction ${i}`;
      if (isPseudoFunc(ins)) throw new ElfError('elf.reloc', `${w}: function addresses (BPF_PSEUDO_FUNC) are not supported`, loc(elf));
      const symOff = prog.callRelocs.get(i);
      // With a relocation the target is symbol + imm + 1; without one (a static callee in the
      // same section) the immediate is relative to the call's own place in the section.
      const target = symOff !== undefined ? symOff / 8 + ins.imm + 1 : prog.start + i + ins.imm + 1;
      const sub = textFuncs.find((t) => t.start <= target && target < t.start + t.count);
      if (!sub) throw new ElfError('elf.program', `${w}: call to instruction ${target} of .text, where no function is`, { ...loc(elf), insn: base + i });
      let at = placed.get(sub);
      if (at === undefined) {
        at = slots.length;
        placed.set(sub, at);
        order.push({ func: sub, base: at });
        for (const s of sub.slots) slots.push({ ...s });
        relocCode(sub, at);
      }
      slots[base + i].imm = at - (base + i) - 1;
    }
  };
  relocCode(main, 0);
  return { slots, order };
}

export function buildPrograms(ctx: ProgramContext, funcs: readonly Func[]): ProgramSpec[] {
  const { elf } = ctx;
  const textFuncs = funcs.filter((f) => f.section.name === '.text');
  const programs: ProgramSpec[] = [];
  for (const main of funcs) {
    if (main.section.name === '.text') continue;
    const type = progTypeOfSection(main.section.name);
    if (type === undefined) {
      throw new ElfError('elf.section', `section ${main.section.name}: program ${main.name}: no program type for this section name (tailjit models ${KNOWN_SECTIONS.join(', ')})`, loc(elf));
    }
    const linked = link(elf, main, textFuncs);
    const insns: Insn[] = decode(encodeSlots(linked.slots), loc(elf));
    programs.push(Object.freeze({
      name: main.name,
      section: main.section.name,
      type,
      insns: Object.freeze(insns),
      funcs: Object.freeze(funcInfos(ctx, main, linked)),
      lineInfo: Object.freeze(lineInfos(ctx, linked)),
      license: ctx.license,
    }));
  }
  return programs;
}

/** func_info of every function, moved to its new place; each function needs its record. */
function funcInfos(ctx: ProgramContext, main: Func, linked: Linked): FuncInfo[] {
  return linked.order.map(({ func, base }) => {
    const w = `program ${main.name}: function ${func.name}`;
    const recs = ctx.ext.funcInfo.get(func.section.name) ?? [];
    const rec = recs.find((r) => r.insnOff === func.start * 8);
    if (!rec) throw new ElfError('elf.btf-ext', `${w}: no .BTF.ext func_info at its first instruction`, loc(ctx.elf));
    const t = ctx.btf.type(rec.typeId, `${w}: func_info type`);
    if (t.kind !== 'func') throw new ElfError('elf.btf-ext', `${w}: func_info type ${rec.typeId} is a ${t.kind}, not a FUNC`, loc(ctx.elf));
    if (t.name !== func.name) throw new ElfError('elf.btf-ext', `${w}: func_info names ${t.name}`, loc(ctx.elf));
    return Object.freeze({ insnOff: base, name: t.name, typeId: rec.typeId });
  });
}

function lineInfos(ctx: ProgramContext, linked: Linked): LineInfo[] {
  const out: LineInfo[] = [];
  for (const { func, base } of linked.order) {
    for (const r of ctx.ext.lineInfo.get(func.section.name) ?? []) {
      const slot = r.insnOff / 8;
      if (r.insnOff % 8 !== 0 || slot < func.start || slot >= func.start + func.count) continue;
      out.push(Object.freeze({
        insnOff: slot - func.start + base,
        file: ctx.btf.str(r.fileNameOff, `line_info file name of ${func.name}`),
        line: r.lineCol >>> 10,
        column: r.lineCol & 0x3ff,
        text: ctx.btf.str(r.lineOff, `line_info line of ${func.name}`),
      }));
    }
  }
  return out;
}

/**
 * libbpf marks a global function of hidden or internal visibility static in the BTF it loads
 * (mark_btf_static), so that the verifier checks it with its caller's context.
 */
export function markHiddenFuncsStatic(btf: Btf, elf: ElfFile): Btf {
  const hidden = new Set(elf.symbols
    .filter((s) => s.type === STT.FUNC && s.bind !== STB.LOCAL && (s.visibility === STV.HIDDEN || s.visibility === STV.INTERNAL))
    .map((s) => s.name));
  if (hidden.size === 0) return btf;
  return btf.withTypes(btf.types.map((t) => (t.kind === 'func' && hidden.has(t.name) ? Object.freeze({ ...t, linkage: FuncLinkage.STATIC }) : t)));
}

/** True when `name` at (shndx, value) is a program (not a .text function): prog-array values. */
export function isEntryProgram(funcs: readonly Func[], name: string, shndx: number, value: number): boolean {
  return funcs.some((f) => f.name === name && f.section.index === shndx && f.start * 8 === value && f.section.name !== '.text');
}

export type { Func };
