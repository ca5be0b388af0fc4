// `tailjit run OBJ|ASM [--prog P] [--set MAP:SLOT=PROG]... [--data-size N | --ctx HEX] [--trace]
// [--json]` as a library function: load one BPF ELF object (every program verified and JIT-ed)
// or one program in the conformance syntax (a `.data` file, or plain assembly), fill prog-array
// slots, run one program once (or `repeat` times) on the emulated 5.10 machine, and report the
// result, what the harness observed and the program's images.
//
// Context: for an ELF program, the packet (`--ctx HEX`: the frame's bytes; else `--data-size`
// zero bytes, default 64) as BPF_PROG_TEST_RUN builds it for the program's type. For assembly,
// raw memory as the conformance suite has it (r1 = its address, r2 = its length): the `.data`
// file's `-- mem`, `--ctx HEX`, or `--data-size` zero bytes (default none).

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { TailjitError } from '../src/errors.js';
import { dataFileProgram, parseDataFile, assemble } from '../src/asm/index.js';
import { loadObject } from '../src/elf/index.js';
import type { Insn } from '../src/isa/index.js';
import { getProfile, type Profile } from '../src/profile/index.js';
import { conformanceProgram } from './conformance-backend.js';
import { CONFORMANCE_FUNCTIONS } from './kernel/helpers.js';
import type { PokeRunReport } from './kernel/poke.js';
import { Machine } from './harness/machine.js';
import type { RunBudget, RunResult } from './harness/run.js';
import { programInfo, type ScenarioProgram } from './scenario.js';
import type { GlobalValue } from '../src/elf/index.js';

export class RunCommandError extends TailjitError {}

export interface SlotAssignment {
  readonly map: string;
  readonly slot: number;
  readonly prog: string;
}

export interface RunFileOptions {
  /** The program to run (default: the object's first program that loaded). */
  readonly prog?: string;
  readonly set?: readonly SlotAssignment[];
  readonly dataSize?: number;
  /** The frame (ELF) or the raw memory (assembly). */
  readonly ctx?: Uint8Array;
  readonly repeat?: number;
  readonly trace?: boolean;
  readonly events?: boolean;
  readonly budget?: RunBudget;
  readonly profile?: Profile;
  readonly version?: string;
}

/** What a run's report says on every backend: the emulated kernel's and the live one's. */
export interface RunReportHead {
  readonly tailjit: string;
  readonly file: string;
  readonly kind: 'elf' | 'asm';
  readonly prog: string;
  readonly kernel: { profile: string; release: string; machine: string };
  /** Time to verify, JIT and load everything, and to set the slots (ms). */
  readonly setup_ms: number;
  readonly load_errors: { prog: string; code: string; message: string }[];
  readonly program: ScenarioProgram;
}

export interface RunReport extends RunReportHead {
  readonly pokes: { map: string; slot: number; prog: string; report: PokeRunReport }[];
  readonly run: Omit<RunResult, 'r0' | 'packet'> & { r0: string; globals: Record<string, GlobalValue>; sections: Record<string, string>; packet_hex?: string };
}

/** `MAP:SLOT=PROG` as the command line writes it. */
export function parseSlotAssignment(text: string): SlotAssignment {
  const m = /^([^:=\s]+):(\d+)=([^:=\s]+)$/.exec(text);
  if (!m) throw new RunCommandError('run.bad-set', `--set ${text}: expected MAP:SLOT=PROG (e.g. jmp_table:0=target)`);
  return { map: m[1], slot: Number(m[2]), prog: m[3] };
}

/** Hex bytes, spaces allowed (`--ctx`). */
export function parseHexBytes(text: string): Uint8Array {
  const t = text.replace(/\s+/g, '').replace(/^0x/i, '');
  if (t.length % 2 !== 0 || /[^0-9a-f]/i.test(t)) throw new RunCommandError('run.bad-hex', `--ctx: '${text}' is not an even number of hex digits`);
  return Uint8Array.from(Buffer.from(t, 'hex'));
}

export const isElf = (b: Uint8Array): boolean => b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;

export function runFile(file: string, options: RunFileOptions = {}): RunReport {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new RunCommandError('run.io', `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  const profile = options.profile ?? getProfile('linux-5.10');
  const t0 = performance.now();
  const elf = isElf(bytes);
  const text = Buffer.from(bytes).toString('utf8');
  const dataFile = !elf && isDataFile(text);
  // A .data file assumes the conformance suite's helper 5; other assembly gets the kernel's helpers.
  const machine = elf ? new Machine({ profile }) : new Machine({ profile, stackRules: false, ...(dataFile ? { functions: CONFORMANCE_FUNCTIONS } : {}) });
  try {
    let prog: string;
    let raw: Uint8Array | undefined;
    if (elf) {
      machine.loadObject(loadObject(bytes, file));
      prog = options.prog ?? firstLoaded(machine, file);
    } else {
      const { insns, mem } = readAsm(file, text, dataFile);
      prog = options.prog ?? basename(file).replace(/\.[^.]*$/, '');
      machine.load(conformanceProgram(prog, insns, machine));
      raw = options.ctx ?? mem ?? new Uint8Array(options.dataSize ?? 0);
    }
    const pokes = (options.set ?? []).map((s) => ({ ...s, report: machine.updateSlot(s.map, s.slot, s.prog) }));
    const setupMs = performance.now() - t0;
    const r = machine.run(prog, {
      ...(raw !== undefined ? { raw } : options.ctx ? { data: options.ctx } : { dataSize: options.dataSize ?? 64 }),
      repeat: options.repeat, trace: options.trace, events: options.events, budget: options.budget,
    });
    const g = machine.globals();
    const { r0, packet, ...rest } = r;
    return {
      tailjit: options.version ?? 'dev', file, kind: elf ? 'elf' : 'asm', prog,
      kernel: { profile: profile.name, release: profile.releaseString, machine: 'x86_64 (emulated)' },
      setup_ms: Math.round(setupMs * 1000) / 1000,
      load_errors: [...machine.failures].map(([p, e]) => ({ prog: p, code: e.code, message: e.message })),
      pokes,
      run: { ...rest, r0: `0x${r0.toString(16)}`, globals: g.globals, sections: g.sections, ...(packet ? { packet_hex: Buffer.from(packet).toString('hex') } : {}) },
      program: programInfo(machine, machine.program(prog)),
    };
  } finally {
    machine.close();
  }
}

/** The first program that loaded (the run's default), or an error naming why none did. */
export function firstLoaded(loaded: { readonly programs: ReadonlyMap<string, unknown>; readonly failures: ReadonlyMap<string, { readonly message: string }> }, file: string): string {
  const first = loaded.programs.keys().next();
  if (!first.done) return first.value;
  const why = [...loaded.failures].map(([p, e]) => `${p}: ${e.message}`).join('; ');
  throw new RunCommandError('run.nothing-loaded', `no program of ${file} loaded${why ? ` (${why})` : ''}`, { file });
}

export const isDataFile = (text: string): boolean => /^\s*--\s*(asm|raw)\b/m.test(text);

/** An assembly file or a conformance `.data` file as instructions (and the `.data` file's memory). */
export function readAsm(file: string, text: string, dataFile: boolean): { insns: Insn[]; mem?: Uint8Array } {
  if (dataFile) {
    const data = parseDataFile(text, { file });
    return { insns: dataFileProgram(data), ...(data.mem ? { mem: data.mem } : {}) };
  }
  return { insns: assemble(text, { file }) };
}

/** The report as text, for the terminal. */
export function formatRunReport(r: RunReport): string {
  const run = r.run;
  const t = run.trace;
  const lines: string[] = [];
  const per = run.repeat > 1 ? ` (${run.repeat} runs)` : '';
  lines.push(`${r.prog}: retval ${run.retval} (r0 ${run.r0})${per}, ${(run.duration_ns / 1000).toFixed(1)} us per run emulated, set-up ${r.setup_ms.toFixed(1)} ms`);
  for (const e of r.load_errors) lines.push(`not loaded: ${e.prog}: ${e.message}`);
  for (const p of r.pokes) {
    const paths = p.report.sites.map((s) => `${s.prog} insn ${s.insn} ${s.path.join('->')}`).join(', ');
    lines.push(`set ${p.map}[${p.slot}] = ${p.prog}${paths ? `: ${paths}` : ''}`);
  }
  lines.push(`tail calls: ${t.tail_calls} taken, ${t.tail_calls_refused} refused (limit ${t.refused.limit}, empty slot ${t.refused.empty_slot}, out of bounds ${t.refused.out_of_bounds}), at most ${t.max_tail_calls_in_chain} in one chain`);
  lines.push(`calls: ${t.bpf2bpf_calls} bpf2bpf, ${t.max_call_depth} frames deep at most; ${t.max_stack_bytes} bytes of kernel stack${t.x86_insns !== null ? `; ${t.x86_insns} x86 instructions` : ''}`);
  for (const c of t.checks) lines.push(`check ${c.check}: ${c.ok ? 'ok' : 'FAILED'}: ${c.detail}`);
  for (const line of run.printk) lines.push(`trace_printk: ${line}`);
  const globals = Object.entries(run.globals);
  if (globals.length) lines.push(`globals: ${globals.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`);
  if (run.error) {
    const e = run.error;
    lines.push(`error (${e.kind}): ${e.message}`);
    if (e.x86_address) lines.push(`  at ${e.x86_address}${e.where ? ` (${e.where})` : ''}${e.bpf_insn !== null ? `, BPF insn ${e.bpf_insn}` : ''}${e.prog ? ` of ${e.prog}` : ''}`);
    if (e.call_chain.length) lines.push(`  call chain: ${e.call_chain.join(' -> ')}`);
  }
  return lines.join('\n') + '\n';
}
