// The README's first command: the bundled scenario programs/demo/chain.json on the emulated JIT.
// entry calls hop() twice, hop() tail-calls jmp_table[0] = link, link calls hop() once: each of
// entry's calls starts a chain of tail calls from a subprogram that runs into the limit. The
// harness's observer shows what the kernel cannot: the counter each tail call reads, the rsp
// at each hop() entry and at each tail-call jump (the subprogram's frame is gone, the target
// reuses its rbp), and the checks. Then the same scenario on every profile the JIT models, next
// to what the real kernels answered (programs/demo/expected/<release>/, kvm-oracle).

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCommand, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS, UsageError } from '../args.js';
import { VERSION } from '../version.js';
import { runOk, table, toJson } from './scenario.js';
import { PROFILES, type ProfileName } from '../../src/profile/index.js';
import { releaseFolder } from '../../emu/suite/golden.js';
import { runScenarioFile, type ScenarioResult, type ScenarioRun } from '../../emu/scenario.js';
import type { Check, TraceEvent } from '../../emu/harness/observer.js';

/**
 * The profiles shown, each beside the kernel whose committed answer it is compared with (the
 * profile's folder in programs/demo/expected/: 5.10.223, 6.1.192, the 6.18.44 host).
 */
const KERNELS: readonly ProfileName[] = ['linux-5.10', 'linux-6.1', 'linux-6.18'];

/** The run the demo is about: slot 0 = link (the scenario's second run). */
const CHAIN_RUN = 1;
/** hop is the only subprogram: function 1 of entry's image. */
const HOP_FUNC = 1;
const GLOBALS = ['link_runs', 'hop_calls', 'refused'] as const;

/** programs/demo beside this checkout: from cli/commands (tests) or dist/cli/commands. */
export function demoDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const up of ['../..', '../../..']) {
    const p = resolve(here, up, 'programs', 'demo');
    if (existsSync(join(p, 'chain.json'))) return p;
  }
  throw new UsageError('programs/demo/chain.json is not beside this checkout');
}

// --- what the observer saw ------------------------------------------------------------------

/** One tail-call attempt in hop: the count it read, hop's entry rsp, the rsp at the jump. */
export interface ChainStep {
  readonly counter: number;
  readonly hop_rsp: string;
  /** null: refused, hop fell through. */
  readonly jump_rsp: string | null;
  /** BPF frames after the step. */
  readonly depth: number;
}

/**
 * The chains of one run, from the observer's events and counter reads: each hop() call is one
 * attempt (hop has one tail call site, so its i-th call makes the i-th counter read); an
 * attempt is taken when a tail call follows, refused when hop returns, which ends the chain.
 */
export function chainsOf(events: readonly TraceEvent[], counters: readonly number[]): ChainStep[][] {
  const chains: ChainStep[][] = [];
  let current: ChainStep[] = [];
  let calls = 0;
  let pending: { counter: number; hop_rsp: string } | null = null;
  for (const ev of events) {
    if (ev.kind === 'call' && ev.name === 'hop') {
      pending = { counter: counters[calls++], hop_rsp: ev.rsp };
    } else if (ev.kind === 'tail_call' && pending) {
      current.push({ ...pending, jump_rsp: ev.rsp, depth: ev.depth });
      pending = null;
    } else if (ev.kind === 'return' && ev.name === 'hop' && pending) {
      current.push({ ...pending, jump_rsp: null, depth: ev.depth + 1 });
      chains.push(current);
      current = [];
      pending = null;
    }
  }
  return chains;
}

/** A function's frame below its rbp, read from its prologue (tailcalls.md §1.1). */
export interface Frame {
  /** round_up(stack_depth, 8): the `sub rsp` of the prologue. */
  readonly stack_bytes: number;
  /** `push rax`: the tail call counter's slot (tail-call-reachable functions). */
  readonly counter_slot: boolean;
  /** Callee-saved registers pushed. */
  readonly saved: readonly string[];
  readonly bytes: number;
}

export function prologueFrame(image: Uint8Array): Frame {
  let i = 11; // nop5, xor eax,eax or nop2, push rbp, mov rbp,rsp
  let stack = 0;
  if (image[i] === 0x48 && image[i + 1] === 0x81 && image[i + 2] === 0xec) {
    stack = new DataView(image.buffer, image.byteOffset + i + 3, 4).getInt32(0, true);
    i += 7;
  }
  const counterSlot = image[i] === 0x50;
  if (counterSlot) i++;
  const saved: string[] = [];
  for (;;) {
    if (image[i] === 0x53) {
      saved.push('rbx');
      i += 1;
    } else if (image[i] === 0x41 && [0x55, 0x56, 0x57].includes(image[i + 1])) {
      saved.push(`r1${image[i + 1] - 0x52}`);
      i += 2;
    } else break;
  }
  return { stack_bytes: stack, counter_slot: counterSlot, saved, bytes: stack + 8 * ((counterSlot ? 1 : 0) + saved.length) };
}

function hopImage(res: ScenarioResult): Uint8Array {
  const entry = res.programs.find((p) => p.name === res.entry)!;
  const start = entry.jited_func_lens.slice(0, HOP_FUNC).reduce((a, b) => a + b, 0);
  return Uint8Array.from(Buffer.from(entry.jited_hex.slice(2 * start, 2 * (start + entry.jited_func_lens[HOP_FUNC])), 'hex'));
}

// --- the kernels' answers -------------------------------------------------------------------

interface GoldenDoc {
  runs: { step: number; retval: number; globals: Record<string, unknown> }[];
  programs: { name: string; jited_func_lens: number[] }[];
}

/** Where the emulated result and a kernel's answer differ: runs (retval, globals), image lengths. */
export function differences(res: ScenarioResult, golden: GoldenDoc): string[] {
  const out: string[] = [];
  if (res.runs.length !== golden.runs.length) out.push(`${res.runs.length} runs, the kernel ${golden.runs.length}`);
  golden.runs.forEach((g, i) => {
    const r = res.runs[i];
    if (!r) return;
    if (r.retval !== g.retval) out.push(`step ${g.step}: retval ${r.retval}, the kernel ${g.retval}`);
    for (const [k, v] of Object.entries(g.globals)) {
      if (toJson(r.globals[k], 0) !== JSON.stringify(v)) out.push(`step ${g.step}: ${k} ${toJson(r.globals[k], 0)}, the kernel ${JSON.stringify(v)}`);
    }
  });
  for (const gp of golden.programs) {
    const p = res.programs.find((x) => x.name === gp.name);
    if (p?.jited_func_lens.join() !== gp.jited_func_lens.join()) out.push(`${gp.name}: images of ${p?.jited_func_lens.join('+') ?? 'none'} bytes, the kernel ${gp.jited_func_lens.join('+')}`);
  }
  return out;
}

interface KernelRow {
  readonly profile: ProfileName;
  readonly release: string;
  readonly result: ScenarioResult;
  /** null when no answer of that kernel is committed. */
  readonly differences: string[] | null;
}

function runKernel(dir: string, name: ProfileName, events: boolean): KernelRow {
  const profile = PROFILES[name];
  const result = runScenarioFile(join(dir, 'chain.json'), { profile, version: VERSION, events });
  const folder = releaseFolder(join(dir, 'expected'), profile);
  const goldenFile = folder && join(dir, 'expected', folder, 'chain.json');
  const golden = goldenFile && existsSync(goldenFile) ? (JSON.parse(readFileSync(goldenFile, 'utf8')) as GoldenDoc) : null;
  // `host-6.18.44-fc-v669` is the host koracle ran on: shown as `6.18.44 (host)`.
  const release = folder ? folder.replace(/^host-(\d+\.\d+\.\d+).*$/, '$1 (host)') : profile.releaseString;
  return { profile: name, release, result, differences: golden ? differences(result, golden) : null };
}

// --- text -------------------------------------------------------------------------------------

const short = (rsp: string): string => `..${rsp.slice(-5)}`;

/** hop's rbp: one push (rbp) below the return address where it was entered. */
const rbpOf = (s: ChainStep): bigint => BigInt(s.hop_rsp) - 8n;

function chainRows(chain: readonly ChainStep[]): string[][] {
  const rows = chain.map((s, i) => {
    const jump = s.jump_rsp === null ? 'refused' : `${short(s.jump_rsp)} ${BigInt(s.jump_rsp) === rbpOf(s) ? '= hop\'s rbp' : '!= hop\'s rbp'}`;
    const counter = s.jump_rsp === null ? `${s.counter}: stop` : `${s.counter} -> ${s.counter + 1}`;
    return [s.jump_rsp === null ? '-' : String(i + 1), counter, short(s.hop_rsp), jump, String(s.depth)];
  });
  // The first three and the last three attempts; the middle is more of the same.
  const shown = rows.length > 7 ? [...rows.slice(0, 3), ['...', '', '', '', ''], ...rows.slice(-3)] : rows;
  return [['tail call', 'counter', 'hop entered (rsp)', 'rsp at the jump', 'frames'], ...shown];
}

function checkLines(checks: readonly Check[]): string[] {
  const w = Math.max(...checks.map((c) => c.check.length));
  return checks.map((c) => `  ${c.check.padEnd(w)}  ${c.ok ? 'ok' : 'FAILED'}  ${c.detail}`);
}

function summaryRows(rows: readonly KernelRow[]): string[][] {
  return [['profile', 'retval', ...GLOBALS, 'tail calls', 'chain', 'frames', 'stack', 'kernel answered'],
    ...rows.map((k) => {
      const r: ScenarioRun = k.result.runs[CHAIN_RUN];
      const t = r.trace!;
      const verdict = k.differences === null ? 'no golden' : k.differences.length === 0 ? `${k.release}: the same` : `${k.release}: DIFFERS`;
      return [k.profile, String(r.retval), ...GLOBALS.map((g) => String(r.globals[g])), String(t.tail_calls), String(t.max_tail_calls_in_chain),
        String(t.max_call_depth), `${t.max_stack_bytes} B`, verdict];
    })];
}

function formatDemo(rows: readonly KernelRow[], chains: ChainStep[][], frame: Frame, ok: boolean): string {
  const main = rows[0];
  const run = main.result.runs[CHAIN_RUN];
  const { maxTailCallCnt: max, tailCallCntJcc: jcc } = PROFILES[main.profile].jit;
  const stop = jcc === 'ja' ? `${max + 1} > ${max}` : `${max} >= ${max}`;
  const first = chains[0] ?? [];
  const nest = first.length > 1 ? Number(BigInt(first[0].hop_rsp) - BigInt(first[1].hop_rsp)) : 0;
  const out = [
    `tailjit demo: a tail call chain from a subprogram, on the emulated x86-64 JIT of Linux ${main.release}`,
    '',
    'programs/demo/chain.bpf.c: entry calls hop() twice; hop() tail-calls jmp_table[0] (direct),',
    'which holds link; link calls hop() once. Each taken tail call replaces hop\'s frame with link\'s.',
    `hop's frame below its rbp: ${frame.stack_bytes} bytes of BPF stack, ${frame.counter_slot ? 'the counter slot, ' : ''}${frame.saved.join(', ') || 'no registers'}: ${frame.bytes} bytes,`,
    `unwound before each jump; link starts at bpf_func + ${PROFILES[main.profile].jit.tailCallOffset} on hop's rbp and calls hop() ${nest} bytes deeper.`,
    '',
    `step ${run.step}, slot 0 = link: retval ${run.retval}; chain 1, entry's first call of hop():`,
    ...table(chainRows(first), new Set([0, 4])).map((l) => `  ${l}`),
    `  at the limit hop reads ${stop} (MAX_TAIL_CALL_CNT), falls through and returns 1; the link frames return.`,
  ];
  chains.slice(1).forEach((c, i) => {
    const taken = c.filter((s) => s.jump_rsp !== null);
    const last = c.at(-1);
    out.push(`chain ${i + 2}: entry's next call of hop() passes entry's own count, ${c[0]?.counter} again: ${taken.length} tail calls, stopped at ${last?.counter}.`);
  });
  out.push('', `checks of that run (${main.profile}):`, ...checkLines(run.trace!.checks), '',
    'the same scenario on every profile the JIT models, and the real kernels\' answers:',
    ...table(summaryRows(rows), new Set([1, 2, 3, 4, 5, 6, 7, 8])).map((l) => `  ${l}`));
  for (const k of rows) for (const d of k.differences ?? []) out.push(`  ${k.release} differs: ${d}`);
  const shared = rows.find((k) => PROFILES[k.profile].tailCall.counter === 'shared');
  if (shared) {
    const r = shared.result.runs[CHAIN_RUN];
    const j = PROFILES[shared.profile].jit;
    out.push(`  ${shared.profile}: one counter per run behind a pointer (tcc_ptr), so entry's second call of hop()`,
      `  finds it at ${j.maxTailCallCnt + (j.tailCallCntJcc === 'ja' ? 1 : 0)} and falls through: ${r.globals.link_runs} link runs in all.`);
  }
  const agreed = rows.filter((k) => k.differences).map((k) => k.release);
  const list = `Linux ${agreed.length > 1 ? `${agreed.slice(0, -1).join(', ')} and ${agreed.at(-1)}` : agreed.join('')}`;
  out.push('', ok ? `ok: every run and every check as expected; the emulated JIT agrees with ${list}.` : 'MISMATCH: see above');
  return out.join('\n') + '\n';
}

// --- the command ------------------------------------------------------------------------------

export const demo = defineCommand({
  spec: {
    name: 'demo',
    summary: 'show a tail call chain from a subprogram reaching the limit, on the emulated JIT',
    usage: '[--json]',
    details: `Runs the bundled scenario programs/demo/chain.json on the emulated Linux 5.10 JIT: entry
calls hop() twice, hop() tail-calls slot 0, slot 0 holds link, which calls hop() once. Shows
the tail call counter each attempt read, the rsp where hop() was entered and where the tail call
jumped (hop's frame unwound down to its rbp), the checks, then the same scenario on each
profile the JIT models beside the answer of the real kernel (programs/demo/expected).
Exit 1 when a run or a check failed or the result differs from a kernel's committed answer.`,
    options: { ...COMMON_OPTIONS },
  },
  async run({ options }, io) {
    const dir = demoDir();
    const rows = KERNELS.map((k, i) => runKernel(dir, k, i === 0));
    const main = rows[0];
    const run = main.result.runs[CHAIN_RUN];
    const chains = chainsOf(run.trace?.events ?? [], run.trace?.counter_values ?? []);
    const frame = prologueFrame(hopImage(main.result));
    // A kernel without a committed answer is shown, but 5.10.223's answer must be there.
    const ok = rows.every((k) => k.result.runs.every(runOk) && (k.differences?.length ?? 0) === 0) && main.differences !== null;
    if (options.json) {
      io.out(toJson({
        tailjit: VERSION, ok, scenario: 'programs/demo/chain.json', hop_frame: frame, chains,
        checks: run.trace?.checks ?? [],
        kernels: rows.map((k) => ({
          profile: k.profile, release: k.release, differences: k.differences,
          runs: k.result.runs.map(({ trace, sections, ...r }) => ({ ...r, trace: trace && { ...trace, events: undefined, counter_values: undefined } })),
        })),
      }) + '\n');
    } else {
      io.out(formatDemo(rows, chains, frame, ok));
    }
    return ok ? EXIT_OK : EXIT_CHECK_FAILED;
  },
});
