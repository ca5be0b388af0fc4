// `tailjit load OBJ`: what the modeled kernel's verifier makes of every program of a BPF object,
// without running anything: functions with their stack depths and tail-call flags, direct
// tail-call sites (poke descriptors), the object's maps and globals, and with --xlated the
// program as `bpftool prog dump xlated` shows it. A program the verifier rejects is shown with
// the kernel's message and the instruction and source line it points at.

import { relative, resolve } from 'node:path';
import { defineCommand, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS, UsageError } from '../args.js';
import { kernelLayout, type LoadLayout } from '../layout.js';
import { helperName, kernelListing, LINUX_5_10_LAST_HELPER } from '../../src/asm/index.js';
import {
  decodeGlobals, loadObjectFile, MapType, toHex, type Btf, type GlobalValue, type LineInfo, type MapSpec,
  type ObjectFile, type ProgramSpec,
} from '../../src/elf/index.js';
import { Class, JmpOp, Layout, encode } from '../../src/isa/index.js';
import { DEFAULT_PROFILE, PROFILES, getProfile, type Profile } from '../../src/profile/index.js';
import { findLinfo, isLocalCall, slotCount, verify, xlatedForDump, VerifierError, type VerifiedProgram } from '../../src/verifier/index.js';

// --- one program ------------------------------------------------------------------------------

/** A verified program, or the verifier's error (its slot numbers `spec.insns`, as loaded). */
type Outcome =
  | { readonly status: 'loaded'; readonly spec: ProgramSpec; readonly vp: VerifiedProgram; readonly notChecked: readonly string[] }
  | { readonly status: 'rejected' | 'not_modeled'; readonly spec: ProgramSpec; readonly error: VerifierError };

interface Loaded {
  readonly obj: ObjectFile;
  readonly profile: Profile;
  readonly layout: LoadLayout;
}

const CALL = Class.JMP | JmpOp.CALL;
/** BPF_JMP | BPF_TAIL_CALL, what the verifier turns bpf_tail_call into. */
const TAIL_CALL = Class.JMP | 0xf0;

function loadProgram(spec: ProgramSpec, ctx: Loaded): Outcome {
  try {
    const vp = verify(spec, ctx.obj, { profile: ctx.profile, layout: ctx.layout, backend: 'jit' });
    return { status: 'loaded', spec, vp, notChecked: vp.notChecked ?? [] };
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    return { status: e.code === 'verifier.not-modeled' ? 'not_modeled' : 'rejected', spec, error: e };
  }
}

/** The function's effective tail_call_reachable: the verifier's flag, or a tail call of its own (5.10 do_jit's tail_call_seen). */
const reachable = (f: VerifiedProgram['funcs'][number]): boolean => f.tailCallReachable || f.hasTailCall;

/** Slots of the BPF_TAIL_CALL sites without a poke descriptor (imm 0; a direct site holds its poke index + 1). */
function indirectTailCalls(vp: VerifiedProgram): number[] {
  const l = new Layout(vp.insns);
  return vp.insns.flatMap((i, n) => (i.code === TAIL_CALL && i.imm === 0 ? [l.slotOf[n]] : []));
}

// --- bpftool's view: function signatures and the xlated listing -------------------------------

/** A type as bpftool's btf_dumper_type_only() writes it, with its trailing space (`struct __sk_buff * `). */
function typeText(btf: Btf, id: number, depth = 0): string {
  if (depth > 16) throw new RangeError('type chain too deep');
  const t = btf.type(id);
  switch (t.kind) {
    case 'void': return 'void ';
    case 'int': case 'float': case 'typedef': return `${t.name} `;
    case 'struct': case 'union': return `${t.kind} ${t.name} `;
    case 'enum': case 'enum64': return `enum ${t.name} `;
    case 'fwd': return `${t.union ? 'union' : 'struct'} ${t.name} `;
    case 'ptr': return `${typeText(btf, t.type, depth + 1)}* `;
    case 'const': case 'volatile': case 'restrict': return `${t.kind} ${typeText(btf, t.type, depth + 1)}`;
    case 'type_tag': return typeText(btf, t.type, depth + 1);
    case 'array': return `${typeText(btf, t.type, depth + 1)}[${t.nelems}]`;
    case 'func_proto': return protoText(btf, id, '', depth + 1);
    default: throw new RangeError(`no text for a ${t.kind}`);
  }
}

/** bpftool's btf_dump_func(): `int leaf(__u32 x)`. */
function protoText(btf: Btf, protoId: number, name: string, depth: number): string {
  const p = btf.type(protoId);
  if (p.kind !== 'func_proto') throw new RangeError('not a func_proto');
  const params = p.params.map((a) => (a.type === 0 ? '...' : a.name ? `${typeText(btf, a.type, depth)}${a.name}` : typeText(btf, a.type, depth).trimEnd()));
  return `${typeText(btf, p.returnType, depth)}${name}(${params.join(', ')})`;
}

/** The function's prototype from its func_info BTF type, or its name when there is none. */
function funcHeader(obj: ObjectFile, spec: ProgramSpec, name: string): string {
  const info = spec.funcs.find((f) => f.name === name);
  if (obj.btf && info && info.typeId > 0) {
    try {
      const t = obj.btf.type(info.typeId);
      if (t.kind === 'func') return protoText(obj.btf, t.type, t.name, 0);
    } catch {
      // Odd BTF: the name alone still says where the function starts.
    }
  }
  return name;
}

/**
 * `bpftool prog dump xlated`: the dump form, each function's prototype where it starts and the
 * source line (`; ...`) before the first instruction of each line_info record. A pseudo call
 * is printed by its relative offset (`call pc+3`), as bpftool does.
 */
function xlatedListing(o: Extract<Outcome, { status: 'loaded' }>, ctx: Loaded): string[] {
  const dump = xlatedForDump(o.vp, ctx.layout.mapId);
  const shown = dump.map((d, n) => (isLocalCall(d.code, d.src) ? o.vp.insns[n] : d));
  const lines = kernelListing(shown, {
    style: 'bpftool',
    helperName: (imm) => ctx.layout.symbolAt(ctx.layout.bpfCallBase + BigInt(imm)),
  });
  const slots = new Layout(shown);
  const out: string[] = [];
  let last: LineInfo | undefined;
  shown.forEach((_, n) => {
    const slot = slots.slotOf[n];
    const f = o.vp.funcs.find((x) => x.start === slot);
    if (f) out.push(`${funcHeader(ctx.obj, o.spec, f.name)}:`);
    const l = findLinfo(o.vp.lineInfo ?? [], slot);
    if (l && l !== last) out.push(`; ${l.text.trimStart()}`);
    last = l ?? last;
    out.push(lines[n]);
  });
  return out;
}

// --- documents --------------------------------------------------------------------------------

const MAP_TYPE_NAMES: Readonly<Record<number, string>> = {
  [MapType.HASH]: 'hash', [MapType.ARRAY]: 'array', [MapType.PROG_ARRAY]: 'prog_array',
  [MapType.PERCPU_HASH]: 'percpu_hash', [MapType.PERCPU_ARRAY]: 'percpu_array',
};
const mapTypeName = (t: number): string => MAP_TYPE_NAMES[t] ?? `type ${t}`;
const hex = (n: number): string => `0x${n.toString(16)}`;

function mapDoc(m: MapSpec, index: number, layout: LoadLayout) {
  return {
    id: layout.mapId(index), name: m.name, type: m.type, type_name: mapTypeName(m.type),
    key_size: m.keySize, value_size: m.valueSize, max_entries: m.maxEntries, flags: m.flags,
    prog_array: m.type === MapType.PROG_ARRAY,
    ...(m.section !== undefined ? { section: m.section } : {}),
    ...(m.values ? { initial_slots: Object.fromEntries(m.values.flatMap((p, slot) => (p === null ? [] : [[String(slot), p]]))) } : {}),
  };
}

/** Where a rejection points: the instruction (kernel log syntax) and its source line. */
function errorDoc(o: Extract<Outcome, { status: 'rejected' | 'not_modeled' }>) {
  const e = o.error;
  const slot = e.slot;
  const n = slot === undefined ? -1 : new Layout(o.spec.insns).indexAt[slot] ?? -1;
  const line = n < 0 ? undefined : findLinfo(o.spec.lineInfo, slot!);
  return {
    code: e.code,
    message: e.message,
    kernel_message: e.kernelMessage,
    ...(slot !== undefined ? { insn: slot } : {}),
    // The verifier log's line for it: `42: (85) call pc+2`.
    ...(n >= 0 ? { insn_text: kernelListing(o.spec.insns)[n] } : {}),
    ...(line ? { file: line.file, line: line.line, column: line.column, source: line.text.trimStart() } : {}),
    notes: [...e.notes, ...missingHelperNote(o, n)],
  };
}

/** A helper 5.10 has but the emulated kernel does not implement is refused as "unknown func": say which it is. */
function missingHelperNote(o: Extract<Outcome, { status: 'rejected' | 'not_modeled' }>, n: number): string[] {
  const i = n >= 0 ? o.spec.insns[n] : undefined;
  if (o.error.code !== 'verifier.unknown-helper' || !i || i.code !== CALL || i.imm <= 0 || i.imm > LINUX_5_10_LAST_HELPER) return [];
  return [`Linux 5.10 has ${helperName(i.imm)}; the emulated kernel (emu/kernel/helpers.ts) does not implement it`];
}

function programDoc(o: Outcome, ctx: Loaded, withText: boolean) {
  const head = { name: o.spec.name, section: o.spec.section, type: o.spec.type, status: o.status };
  if (o.status !== 'loaded') return { ...head, error: errorDoc(o) };
  const { vp } = o;
  const fname = (i: number) => vp.funcs[i]?.name ?? `func#${i}`;
  return {
    ...head,
    xlated_insn_count: slotCount(vp),
    stack_depths: vp.funcs.map((f) => f.stackDepth),
    tail_call_reachable: vp.funcs.map(reachable),
    functions: vp.funcs.map((f) => ({
      name: f.name, start: f.start, end: f.end, stack_depth: f.stackDepth,
      tail_call_reachable: reachable(f), has_tail_call: f.hasTailCall,
    })),
    pokes: vp.pokes.map((p) => ({ map: ctx.obj.maps[p.mapIndex].name, key: p.key, function: fname(p.func), insn: p.insnIdx })),
    indirect_tail_calls: indirectTailCalls(vp),
    used_maps: vp.usedMaps.map((i) => ctx.obj.maps[i].name),
    map_ids: vp.usedMaps.map((i) => ctx.layout.mapId(i)),
    xlated_hex: toHex(encode(xlatedForDump(vp, ctx.layout.mapId))),
    ...(withText ? { xlated: xlatedListing(o, ctx) } : {}),
    not_checked: o.notChecked,
  };
}

/** JSON with integers past 2^53 (globals) written as numbers, digit for digit. */
function toJson(doc: unknown, indent = 2): string {
  const text = JSON.stringify(doc, (_k, v) => (typeof v === 'bigint' ? `\u0000big:${v}` : v), indent);
  return text.replace(/"\\u0000big:(-?\d+)"/g, '$1');
}

// --- text -------------------------------------------------------------------------------------

function table(rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string[] {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (right.has(c) ? cell.padStart(w[c]) : cell.padEnd(w[c]))).join('  ').trimEnd());
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

function programText(o: Outcome, ctx: Loaded, common: ReadonlySet<string>): string[] {
  const head = `program ${o.spec.name} (section ${o.spec.section}, type ${o.spec.type})`;
  if (o.status !== 'loaded') {
    const d = errorDoc(o);
    // The kernel log's tail: the source line, the instruction, the message.
    const out = [`${head}: ${o.status === 'rejected' ? 'rejected by the verifier' : 'not modeled'}`];
    if (d.source !== undefined) out.push(`  ; ${d.source}`);
    if (d.insn_text) out.push(`  ${d.insn_text}`);
    out.push(`  ${d.message}`);
    if (d.file !== undefined) out.push(`  at ${d.file}:${d.line}:${d.column}, insn ${d.insn}`);
    for (const n of d.notes) out.push(`  note: ${n}`);
    return out;
  }
  const { vp } = o;
  const out = [`${head}: loaded, ${slotCount(vp)} xlated insns`, '  functions:'];
  const rows = [['slot', 'stack', 'tail_call_reachable', 'tail call', 'name'],
    ...vp.funcs.map((f) => [String(f.start), String(f.stackDepth), yesNo(reachable(f)), yesNo(f.hasTailCall), f.name])];
  out.push(...table(rows, new Set([0, 1])).map((l) => `    ${l}`));
  const indirect = indirectTailCalls(vp);
  out.push(`  tail calls: ${vp.pokes.length} direct, ${indirect.length} indirect${indirect.length ? ` (insn ${indirect.join(', ')})` : ''}`);
  for (const p of vp.pokes) out.push(`    insn ${p.insnIdx} in ${vp.funcs[p.func]?.name}: ${ctx.obj.maps[p.mapIndex].name}[${p.key}] (poke descriptor)`);
  out.push(`  maps used: ${vp.usedMaps.map((i) => `${ctx.obj.maps[i].name} (id ${ctx.layout.mapId(i)})`).join(', ') || 'none'}`);
  const own = o.notChecked.filter((n) => !common.has(n));
  if (own.length > 0) out.push('  not checked:', ...own.map((n) => `    - ${n}`));
  return out;
}

/** What the verifier did not check for every loaded program alike (printed once). */
function commonNotChecked(outcomes: readonly Outcome[]): Set<string> {
  const lists = outcomes.flatMap((o) => (o.status === 'loaded' ? [o.notChecked] : []));
  return new Set(lists.length === 0 ? [] : lists[0].filter((n) => lists.every((l) => l.includes(n))));
}

function mapsText(obj: ObjectFile, layout: LoadLayout): string[] {
  if (obj.maps.length === 0) return ['maps: none'];
  const rows = [['id', 'name', 'type', 'key', 'value', 'max_entries', 'flags', ''],
    ...obj.maps.map((m, i) => {
      const d = mapDoc(m, i, layout);
      let extra = d.prog_array ? 'prog array' : '';
      if (d.initial_slots) extra += `; at load: ${Object.entries(d.initial_slots).map(([s, p]) => `slot ${s} = ${p}`).join(', ') || 'empty'}`;
      return [String(d.id), m.name, d.type_name, String(m.keySize), String(m.valueSize), String(m.maxEntries), hex(m.flags), extra];
    })];
  return ['maps:', ...table(rows, new Set([0, 3, 4, 5])).map((l) => `  ${l}`)];
}

const valueText = (v: GlobalValue): string => toJson(v, 0);

function globalsText(globals: Record<string, GlobalValue>): string[] {
  const names = Object.keys(globals);
  if (names.length === 0) return ['globals: none'];
  return ['globals (initial values):', ...names.map((n) => `  ${n} = ${valueText(globals[n])}`)];
}

// --- the command ------------------------------------------------------------------------------

export const load = defineCommand({
  spec: {
    name: 'load',
    summary: "show what the modeled kernel's verifier makes of a BPF object's programs",
    usage: 'OBJ [--prog NAME] [--xlated] [--profile P] [--json]',
    details: `Loads the ELF object OBJ as libbpf would and verifies each program (or only --prog NAME)
as the profile's kernel does, for its x86-64 JIT. Prints per program its functions (start slot,
stack depth, tail_call_reachable, whether it tail-calls), its direct tail calls (poke
descriptors), then the object's maps and globals' initial values. A rejected program is shown
with the kernel's message and the instruction and source line it points at. Nothing is run.
--json prints one document: per program xlated_insn_count, stack_depths, tail_call_reachable,
pokes, map_ids, xlated_hex (the kernel's dump form, as the oracles' documents hold it) and what
the model did not check; the object's maps and globals.`,
    options: {
      ...COMMON_OPTIONS,
      prog: { type: 'string', arg: 'NAME', description: 'only the program with this C function name' },
      xlated: { type: 'boolean', description: "print the xlated program in bpftool's syntax, with source lines and function prototypes" },
      profile: { type: 'string', arg: 'P', choices: Object.keys(PROFILES), default: DEFAULT_PROFILE, description: 'kernel whose verifier is modeled' },
    },
    minPositionals: 1,
    maxPositionals: 1,
  },
  async run({ options, positionals }, io) {
    const file = resolve(io.cwd, positionals[0]);
    const path = relative(io.cwd, file) || file;
    const obj = loadObjectFile(file);
    const profile = getProfile(options.profile);
    let specs = obj.programs;
    if (options.prog !== undefined) {
      specs = specs.filter((p) => p.name === options.prog);
      if (specs.length === 0) {
        const names = obj.programs.map((p) => p.name).join(', ') || 'none';
        throw new UsageError(`no program '${options.prog}' in ${path}; its programs: ${names}`);
      }
    }
    const layout = kernelLayout(obj, profile);
    const ctx: Loaded = { obj, profile, layout };
    let outcomes: Outcome[];
    try {
      outcomes = specs.map((s) => loadProgram(s, ctx));
    } finally {
      layout.close();
    }
    const ok = outcomes.every((o) => o.status === 'loaded');
    const { globals, sections } = decodeGlobals(obj);
    const idNote = 'map ids count from 1 in object order, as on a fresh kernel; a real kernel numbers them after the maps it already has';
    if (options.json) {
      io.out(toJson({
        object: path,
        kernel: { profile: profile.name, release: profile.releaseString },
        ok,
        programs: outcomes.map((o) => programDoc(o, ctx, Boolean(options.xlated))),
        maps: obj.maps.map((m, i) => mapDoc(m, i, ctx.layout)),
        globals,
        sections,
        not_checked: [idNote],
      }) + '\n');
      return ok ? EXIT_OK : EXIT_CHECK_FAILED;
    }
    const common = commonNotChecked(outcomes);
    const out: string[] = [`${path}: ${obj.programs.length} program(s), ${obj.maps.length} map(s); ${profile.name}, ${profile.releaseString}`];
    for (const o of outcomes) {
      out.push('', ...programText(o, ctx, common));
      if (options.xlated && o.status === 'loaded') out.push('', ...xlatedListing(o, ctx));
    }
    out.push('', ...mapsText(obj, ctx.layout), '', ...globalsText(globals), '', 'not checked:', ...[idNote, ...common].map((n) => `  - ${n}`));
    io.out(out.join('\n') + '\n');
    return ok ? EXIT_OK : EXIT_CHECK_FAILED;
  },
});
