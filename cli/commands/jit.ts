// `tailjit jit OBJ|ASM`: the x86-64 code the modeled kernel's JIT makes of a program, at the
// addresses `tailjit run` uses, without running anything.
//
// An ELF object is loaded into a fresh emulated machine exactly as a scenario loads it (maps, then
// every program verified and JIT-ed in object order, then the prog-array slots libbpf fills), so
// image addresses, helper targets and the state of every direct tail-call site are those a run
// starts from. An assembly file (`.s`, `.asm`, or a conformance `.data`) is one program taken as
// `tailjit conformance --backend jit` takes it: split into functions at `call local` targets, the
// zero checks of division by a register inserted, the suite's helpers; each function's stack depth
// is the verifier's when it accepts the program as a socket filter, else MAX_BPF_STACK (512).

import { readFileSync } from 'node:fs';
import { basename, extname, relative, resolve } from 'node:path';
import { defineCommand, EXIT_BAD_INPUT, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS, UsageError } from '../args.js';
import type { Io } from '../io.js';
import { symbolNames } from '../layout.js';
import { assembleProgram, parseDataFile, dataFileProgram } from '../../src/asm/index.js';
import { ElfError, loadObject, type ProgramSpec } from '../../src/elf/index.js';
import { TailjitError, type SourceLocation } from '../../src/errors.js';
import { CallSrc, Class, JmpOp, LD_IMM64, Layout, type Insn } from '../../src/isa/index.js';
import {
  checkSupported, formatFuncListing, formatListing, JitError, type JitFunc, type JitPoke, type JitResult, type ListingOptions,
} from '../../src/jit/index.js';
import { DEFAULT_PROFILE, PROFILES, getProfile, type Profile } from '../../src/profile/index.js';
import { verify } from '../../src/verifier/index.js';
import type { VerifiedProgram } from '../../src/verifier/types.js';
import { CONFORMANCE_FUNCTIONS, ProgArrayMap, siteState, type PokeState } from '../../emu/kernel/index.js';
import { Machine, type LoadedProgram } from '../../emu/harness/index.js';
import { conformanceProgram } from '../../emu/conformance-backend.js';
import { programInfo } from '../../emu/scenario.js';

/** A refusal of the assembly path that neither the verifier nor the JIT words (no loader here). */
export class JitInputError extends TailjitError {}

// --- inputs -----------------------------------------------------------------------------------

type Input =
  | { readonly kind: 'object'; readonly bytes: Uint8Array }
  | { readonly kind: 'asm'; readonly name: string; readonly insns: readonly Insn[]; readonly lines?: readonly number[] };

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** ELF by its magic, `.data` by its extension, anything else is assembly text. */
function readInput(file: string, path: string): Input {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new ElfError('elf.io', `cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
  if (ELF_MAGIC.every((b, i) => bytes[i] === b)) return { kind: 'object', bytes };
  const text = new TextDecoder().decode(bytes);
  const name = basename(file, extname(file));
  if (extname(file) === '.data') {
    const data = parseDataFile(text, { file: path });
    if (data.raw || !data.asm) return { kind: 'asm', name, insns: dataFileProgram(data) };
    const a = assembleProgram(data.asm.text, { file: path, firstLine: data.asm.firstLine });
    return { kind: 'asm', name, insns: a.insns, lines: a.lines };
  }
  const a = assembleProgram(text, { file: path });
  return { kind: 'asm', name, insns: a.insns, lines: a.lines };
}

// --- loading ----------------------------------------------------------------------------------

/** A JIT-ed program as shown: the JIT's result with every image as it is in memory now. */
interface Shown {
  readonly loaded: LoadedProgram;
  readonly result: JitResult;
  /** Where the stack depths come from (assembly input only). */
  readonly stackFrom?: { readonly source: 'verifier' | 'max_bpf_stack'; readonly reason?: string };
}

interface Loaded {
  readonly machine: Machine;
  readonly shown: Shown[];
  readonly failures: { readonly prog: string; readonly error: TailjitError }[];
}

function shownOf(machine: Machine, loaded: LoadedProgram, stackFrom?: Shown['stackFrom']): Shown {
  // Direct tail-call sites may have been patched since the JIT wrote the image (slots libbpf fills).
  const funcs = loaded.jit.funcs.map((f): JitFunc => ({ ...f, image: machine.imageBytes(f) }));
  return { loaded, result: { ...loaded.jit, funcs }, ...(stackFrom ? { stackFrom } : {}) };
}

/** Every program loads (addresses as in a run); `only` picks the one to show. */
function loadObjectInput(machine: Machine, bytes: Uint8Array, path: string, only: string | undefined): Loaded {
  const obj = loadObject(bytes, path);
  if (only !== undefined && !obj.programs.some((p) => p.name === only)) {
    throw new UsageError(`no program '${only}' in ${path}; its programs: ${obj.programs.map((p) => p.name).join(', ') || 'none'}`);
  }
  machine.loadObject(obj);
  const wanted = obj.programs.filter((p) => only === undefined || p.name === only);
  const shown: Shown[] = [];
  const failures: Loaded['failures'] = [];
  for (const spec of wanted) {
    const error = machine.failures.get(spec.name);
    if (error) failures.push({ prog: spec.name, error });
    else shown.push(shownOf(machine, machine.program(spec.name)));
  }
  return { machine, shown, failures };
}

const isHelperCall = (i: Insn): boolean => i.code === (Class.JMP | JmpOp.CALL) && i.src === CallSrc.HELPER;

/**
 * What the assembly path refuses before building the JIT's input, on the file's own instruction
 * numbering: forms the profile's JIT lacks (checkSupported, the JIT's own rule), map references
 * (there is no loader) and helpers the conformance environment does not have.
 */
function checkAsm(input: Extract<Input, { kind: 'asm' }>, profile: Profile, machine: Machine): void {
  const layout = new Layout(input.insns);
  const kernel = machine.kernel.layout();
  input.insns.forEach((i, k) => {
    const slot = layout.slotOf[k];
    const at: SourceLocation = { ...(input.lines ? { line: input.lines[k] } : {}), insn: slot };
    try {
      checkSupported(i, slot, profile, 0);
    } catch (e) {
      if (e instanceof JitError) throw new JitError(e.code, e.message, { ...at, ...e.location }, { field: e.field });
      throw e;
    }
    if (i.code === LD_IMM64 && i.src !== 0) {
      throw new JitInputError('cli.jit.map-reference', `ld_imm64 with src ${i.src} refers to a map; an assembly program has none (load a BPF object instead)`, at);
    }
    if (isHelperCall(i) && kernel.helperAddress(i.imm) === undefined) {
      throw new JitInputError('cli.jit.unknown-helper', `call ${i.imm}: the conformance environment has no helper ${i.imm} (it has: ${CONFORMANCE_FUNCTIONS.map((f) => f.id).join(', ')})`, at);
    }
  });
}

/**
 * The verifier's stack depth of each function, when 5.10's verifier accepts the program as a
 * socket filter without BTF and splits it into the same functions; else why not.
 */
function verifierStackDepths(name: string, insns: readonly Insn[], vp: VerifiedProgram, machine: Machine): { depths: number[] } | { reason: string } {
  const spec: ProgramSpec = { name, section: 'socket', type: 'socket_filter', insns, funcs: [], lineInfo: [], license: 'GPL' };
  try {
    const v = verify(spec, { programs: [spec], maps: [] }, { profile: machine.profile, layout: machine.kernel.layout(), backend: 'jit' });
    if (v.funcs.length !== vp.funcs.length) return { reason: `the verifier kept ${v.funcs.length} of ${vp.funcs.length} functions` };
    return { depths: v.funcs.map((f) => f.stackDepth) };
  } catch (e) {
    if (e instanceof TailjitError) return { reason: `the verifier refuses it as a socket filter: ${e.message}` };
    throw e;
  }
}

function loadAsmInput(machine: Machine, input: Extract<Input, { kind: 'asm' }>): Loaded {
  checkAsm(input, machine.profile, machine);
  const base = conformanceProgram(input.name, input.insns, machine);
  const v = verifierStackDepths(input.name, input.insns, base, machine);
  const vp: VerifiedProgram = 'depths' in v ? { ...base, funcs: base.funcs.map((f, i) => ({ ...f, stackDepth: v.depths[i] })) } : base;
  const stackFrom: Shown['stackFrom'] = 'depths' in v ? { source: 'verifier' } : { source: 'max_bpf_stack', reason: v.reason };
  return { machine, shown: [shownOf(machine, machine.load(vp), stackFrom)], failures: [] };
}

// --- naming addresses -------------------------------------------------------------------------

/** Kernel symbols, every loaded program's functions (`target0+0xb`) and map addresses. */
function addressNamer(machine: Machine): (address: bigint) => string | undefined {
  const kernel = symbolNames(machine.kernel.symbolTable);
  const ranges: { begin: bigint; end: bigint; name: string }[] = [];
  for (const p of machine.programs.values()) {
    for (const f of p.jit.funcs) {
      const name = f.index === 0 ? p.name : `${p.name}/${f.name}`;
      ranges.push({ begin: f.address, end: f.address + BigInt(f.image.length), name });
    }
  }
  for (const m of machine.kernel.maps) {
    // The struct bpf_map itself is named only at its start.
    ranges.push({ begin: m.address, end: m.address + 1n, name: `map ${m.name}` });
    if (m.kind === 'array') {
      ranges.push({ begin: m.valueAddress, end: m.valueAddress + BigInt(m.elemSize * m.spec.maxEntries), name: `${m.name} value` });
    }
  }
  return (address) => {
    const k = kernel(address);
    if (k !== undefined) return k;
    for (const r of ranges) {
      if (address < r.begin || address >= r.end) continue;
      return address === r.begin ? r.name : `${r.name}+0x${(address - r.begin).toString(16)}`;
    }
    return undefined;
  };
}

function listingOptions(machine: Machine): ListingOptions {
  return { symbolize: addressNamer(machine), bpfCallBase: machine.kernel.symbol('__bpf_call_base') };
}

// --- documents --------------------------------------------------------------------------------

const hexAddr = (a: bigint): string => `0x${a.toString(16)}`;
const CALLEE_SAVED = ['r6', 'r7', 'r8', 'r9'] as const;

function funcDoc(f: JitFunc) {
  return {
    index: f.index, name: f.name, address: hexAddr(f.address), len: f.image.length,
    stack_depth: f.stackDepth, tail_call_reachable: f.tailCallReachable,
    callee_saved: CALLEE_SAVED.filter((_, i) => f.calleeRegsUsed[i]),
    passes: f.passes, pass_lengths: f.passLengths, extra_pass: f.extraPass,
    cleanup_addr: f.cleanupAddr, extable_entries: f.extable.length,
    /** The kernel's addrs[] (x86-jit.md §7.1): addrs[0] is the prologue's end, addrs[s + 1] the end of slot s. */
    addrs: Array.from(f.addrs),
  };
}

/** A direct tail-call site, its slot's program now and the state its two sites are in. */
function pokeInfo(machine: Machine, poke: JitPoke) {
  const map = machine.kernel.maps[poke.mapIndex];
  const slotObject = map instanceof ProgArrayMap ? map.slots[poke.key] ?? null : null;
  const inSlot = slotObject === null ? null : [...machine.programs.values()].find((p) => p.object.address === slotObject)?.name ?? hexAddr(slotObject);
  const state: PokeState = siteState(machine.kernel.mem, poke, machine.profile.jit.cpu.nop5);
  return { map: map.name, key: poke.key, slot: inSlot, state };
}

function pokeDoc(machine: Machine, s: Shown, poke: JitPoke) {
  return {
    ...pokeInfo(machine, poke), func: s.result.funcs[poke.func].name, insn: poke.insnIdx,
    tailcall_target: hexAddr(poke.tailcallTarget), tailcall_bypass: hexAddr(poke.tailcallBypass),
    bypass_addr: hexAddr(poke.bypassAddr), adj_off: poke.adjOff, stable: poke.stable,
  };
}

function programDoc(machine: Machine, s: Shown) {
  return {
    ...programInfo(machine, s.loaded),
    funcs: s.result.funcs.map(funcDoc),
    pokes: s.result.pokes.map((p) => pokeDoc(machine, s, p)),
    ...(s.stackFrom ? { stack_depth_from: s.stackFrom.source, ...(s.stackFrom.reason ? { stack_depth_note: s.stackFrom.reason } : {}) } : {}),
  };
}

/** `prog` is undefined when the input as a whole was refused; `file` is the source the error points into. */
function errorDoc(prog: string | undefined, e: TailjitError, path: string) {
  return {
    ...(prog !== undefined ? { prog } : {}), code: e.code, message: e.message, input: path, file: path, ...e.location,
    notes: e.notes, text: e.format({ file: path }),
  };
}

// --- text -------------------------------------------------------------------------------------

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const STATE_MEANING: Readonly<Record<PokeState, string>> = {
  A: 'forbidden (both sites nop)', B: 'jumps to the slot\'s program', C: 'falls through (slot empty)',
  D: 'transitional, falls through', invalid: 'bytes of neither state',
};

function funcHeader(f: JitFunc, stackNote: string): string {
  const passes = `passes ${f.passes}${f.extraPass ? ' + extra pass' : ''}`;
  return `func ${f.index} ${f.name} at ${hexAddr(f.address)}: ${f.image.length} bytes, tail_call_reachable ${yesNo(f.tailCallReachable)}, stack ${f.stackDepth}${stackNote}, ${passes}`;
}

function programHead(s: Shown): string {
  const { loaded, result } = s;
  const total = result.funcs.reduce((n, f) => n + f.image.length, 0);
  const section = loaded.section !== undefined ? `section ${loaded.section}, ` : '';
  return `program ${loaded.name} (${section}type ${loaded.type}): ${result.funcs.length} function(s), ${total} bytes, ${result.passes} do_jit passes`;
}

function stackNote(s: Shown): string {
  if (!s.stackFrom) return '';
  return s.stackFrom.source === 'verifier' ? ' (verifier)' : ' (MAX_BPF_STACK)';
}

function programText(machine: Machine, s: Shown, options: ListingOptions): string[] {
  const out = [programHead(s)];
  if (s.stackFrom?.reason) out.push(`  note: stack depths are MAX_BPF_STACK: ${s.stackFrom.reason}`);
  const layout = new Layout(s.loaded.verified.insns);
  for (const f of s.result.funcs) {
    const first = layout.indexAt[f.firstSlot];
    const insns = s.loaded.verified.insns.slice(first, first + f.insnSlots.length);
    // formatFuncListing's first line is its own short header; ours replaces it.
    out.push('', funcHeader(f, stackNote(s)), ...formatFuncListing(f, insns, withOwnNames(s.result, options)).slice(1));
  }
  if (s.result.pokes.length > 0) out.push('', 'direct tail calls:');
  for (const p of s.result.pokes) {
    const i = pokeInfo(machine, p);
    out.push(`  insn ${p.insnIdx} in ${s.result.funcs[p.func].name}: ${i.map}[${i.key}] = ${i.slot ?? 'empty'}; state ${i.state}, ${STATE_MEANING[i.state]}`);
  }
  return out;
}

/** The program's own functions by name first (formatListing does the same for whole programs). */
function withOwnNames(result: JitResult, options: ListingOptions): ListingOptions {
  const outer = options.symbolize;
  return {
    ...options,
    symbolize: (a) => {
      const f = result.funcs.find((g) => a >= g.address && a < g.address + BigInt(g.image.length));
      if (!f) return outer?.(a);
      return a === f.address ? f.name : `${f.name}+0x${(a - f.address).toString(16)}`;
    },
  };
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function hexText(s: Shown): string[] {
  return s.result.funcs.map((f) => `${s.loaded.name}/${f.name} ${hexAddr(f.address)} ${f.image.length} ${hexOf(f.image)}`);
}

// --- the command ------------------------------------------------------------------------------

export const jit = defineCommand({
  spec: {
    name: 'jit',
    summary: "show the x86-64 code the modeled kernel's JIT makes of a program",
    usage: 'OBJ|ASM [--prog NAME] [--profile P] [--hex | --disasm | --json]',
    details: `OBJ is a clang BPF object (.o): it is loaded as 'tailjit run' loads it (maps, every
program verified and JIT-ed in object order, prog-array slots declared with __array(values, ...)
filled), so addresses, helper targets and direct tail-call sites are those a run starts from.
ASM is one program in the conformance assembly syntax (.s, .asm, or a .data file's program),
taken as 'tailjit conformance --backend jit' takes it: functions split at 'call local' targets,
the zero checks of division by a register inserted, the suite's helpers; each function's stack
depth is the verifier's when the verifier accepts the program as a socket filter, else 512.

Default output: per function a header (name, address, length, tail_call_reachable, stack depth,
do_jit passes) and its listing; --disasm only the listings (each BPF instruction in kernel syntax,
then its x86 code in Intel syntax, call and jump targets named: helpers, thunks, prog+0xb); --hex
one line per function: PROG/FUNC ADDRESS LEN HEX (back to back they are the oracles' jited_hex);
--json one document whose programs carry the oracles' keys (jited_len, jited_func_lens,
jited_ksyms, jited_hex, ...) plus funcs (address, len, addrs[], passes) and pokes (direct sites).

A program the profile's kernel refuses (the verifier's rejection, or an instruction its JIT does
not have, such as sdiv before 6.6) is reported as FILE:insn N: error: ..., exit status 2: the input
is bad for this profile. With several programs, those that JIT-ed are still shown.`,
    options: {
      ...COMMON_OPTIONS,
      prog: { type: 'string', arg: 'NAME', description: 'OBJ only: show only the program with this C function name' },
      profile: { type: 'string', arg: 'P', choices: Object.keys(PROFILES), default: DEFAULT_PROFILE, description: 'kernel whose verifier and JIT are modeled' },
      hex: { type: 'boolean', description: 'print each function\'s image bytes in hex, one line per function' },
      disasm: { type: 'boolean', description: 'print only the annotated listings (BPF instruction, then its x86 code)' },
    },
    minPositionals: 1,
    maxPositionals: 1,
  },
  async run({ options, positionals }, io) {
    const modes = (['hex', 'disasm', 'json'] as const).filter((m) => options[m]);
    if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} are alternatives: choose one`);
    const file = resolve(io.cwd, positionals[0]);
    const path = relative(io.cwd, file) || file;
    const profile = getProfile(options.profile);
    let machine: Machine | undefined;
    try {
      const input = readInput(file, path);
      if (input.kind === 'asm' && options.prog !== undefined) throw new UsageError('--prog applies to objects; an assembly file holds one program');
      machine = new Machine(input.kind === 'asm' ? { profile, functions: CONFORMANCE_FUNCTIONS, stackRules: false } : { profile });
      const r = input.kind === 'object' ? loadObjectInput(machine, input.bytes, path, options.prog) : loadAsmInput(machine, input);
      print(r, path, profile, options, io);
      return r.failures.length > 0 ? EXIT_BAD_INPUT : EXIT_OK;
    } catch (e) {
      if (!(e instanceof TailjitError) || e instanceof UsageError) throw e;
      // Bad input as a whole (unreadable, malformed, refused before any program loaded).
      if (options.json) io.out(toJson(documentOf(undefined, [], path, profile, [errorDoc(undefined, e, path)])));
      io.err(`${e.format({ file: path })}\n`);
      return EXIT_BAD_INPUT;
    } finally {
      machine?.close();
    }
  },
});

const toJson = (doc: unknown): string => JSON.stringify(doc, null, 2) + '\n';

function documentOf(machine: Machine | undefined, shown: readonly Shown[], path: string, profile: Profile, errors: ReturnType<typeof errorDoc>[]) {
  return {
    file: path,
    kernel: { profile: profile.name, release: profile.releaseString },
    ok: errors.length === 0,
    programs: machine ? shown.map((s) => programDoc(machine, s)) : [],
    errors,
  };
}

function print(r: Loaded, path: string, profile: Profile, options: { readonly hex?: boolean; readonly disasm?: boolean; readonly json?: boolean }, io: Io): void {
  for (const f of r.failures) io.err(`${f.error.format({ file: path })}\n  note: program ${f.prog} was not JIT-ed\n`);
  if (options.json) {
    io.out(toJson(documentOf(r.machine, r.shown, path, profile, r.failures.map((f) => errorDoc(f.prog, f.error, path)))));
    return;
  }
  if (r.shown.length === 0) return;
  const listing = listingOptions(r.machine);
  if (options.hex) {
    io.out(r.shown.flatMap(hexText).map((l) => l + '\n').join(''));
  } else if (options.disasm) {
    io.out(r.shown.map((s) => formatListing(s.result, s.loaded.verified, listing)).join('\n'));
  } else {
    const head = `${path}: ${profile.name}, ${profile.releaseString}`;
    io.out([head, ...r.shown.map((s) => programText(r.machine, s, listing).join('\n'))].join('\n\n') + '\n');
  }
}
