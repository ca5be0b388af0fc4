// Every emulator performance figure of issue 5 in one run, as one JSON document on stdout:
// - loop: bench/emu-loop.bpf.c's programs on the emulated 5.10 machine, per repetition (the
//   default wall-time budget, --trace, an x86 instruction budget), against the host kernel's
//   BPF_PROG_TEST_RUN (koracle's duration_ns; null without root or koracle), as ratios;
// - per_run: the fixed cost of one run() of a program that returns at once, with the default
//   wall-time budget (unicorn starts a timer thread per start) and without a budget;
// - setup: a fresh machine, and per object of programs/ its load (maps, verifier, JIT, images)
//   and its first run (which translates the code);
// - conformance: the suite on the jit backend in-process, and `tailjit conformance --backend
//   jit` as a command (wall time, Node's start included).
// Medians over ROUNDS tries, minimum beside them: the machine is shared and noisy.
//
//   node dist/bench/emu-perf.js [ROUNDS]     (KORACLE=path/to/koracle, SUITE=path/to/tests)

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectDataFiles, loadDataCase, runFile, summarize } from '../src/conformance/index.js';
import { loadObjectFile, type ObjectFile } from '../src/elf/index.js';
import { PROFILES } from '../src/profile/index.js';
import { jitBackend } from '../emu/conformance-backend.js';
import { Machine, type RunRequest } from '../emu/harness/index.js';
import { ucVersion } from '../emu/unicorn/index.js';

const ROUNDS = Number(process.argv[2] ?? 9);
const here = dirname(fileURLToPath(import.meta.url));
const root = [resolve(here, '..'), resolve(here, '../..'), process.cwd()].find((d) => existsSync(join(d, 'bench/emu-loop.bpf.c')))!;
const suite = process.env.SUITE ?? join(root, '../shared/conformance/tests');
const tmp = mkdtempSync(join(tmpdir(), 'tailjit-perf-'));
const LOOPS = ['alu_loop', 'store_loop'];

interface Stat { median: number; min: number; n: number }

function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[s.length >> 1], min: s[0], n: s.length };
}

const ms = (ns: bigint | number): number => Number(ns) / 1e6;

function timed<T>(f: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const v = f();
  return [v, Number(process.hrtime.bigint() - t0)];
}

function compileLoops(): ObjectFile {
  const obj = join(tmp, 'loop.bpf.o');
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(root, 'bench/emu-loop.bpf.c'), '-o', obj]);
  return loadObjectFile(obj);
}

/** koracle's duration_ns per program (median of three invocations of 1000 repetitions) and retval, or null. */
function native(): Record<string, { duration_ns: number; retval: number }> | null {
  const koracle = [process.env.KORACLE, join(root, '../shared/oracle/koracle/koracle'), '/tmp/koracle'].find((p) => p && existsSync(p));
  if (!koracle) return null;
  const scen = join(tmp, 'loop.json');
  writeFileSync(scen, JSON.stringify({ object: join(tmp, 'loop.bpf.o'), entry: LOOPS[0], steps: LOOPS.map((prog) => ({ run: { prog, repeat: 1000 } })) }));
  const per = new Map<string, number[]>();
  const retval = new Map<string, number>();
  try {
    for (let i = 0; i < 3; i++) {
      const doc = JSON.parse(execFileSync(koracle, [scen], { encoding: 'utf8' })) as { runs: { prog: string; duration_ns: number; retval: number }[] };
      for (const r of doc.runs) {
        per.set(r.prog, [...(per.get(r.prog) ?? []), r.duration_ns]);
        retval.set(r.prog, r.retval);
      }
    }
  } catch {
    return null; // not root, or no BPF on this kernel
  }
  return Object.fromEntries([...per].map(([p, xs]) => [p, { duration_ns: stat(xs).median, retval: retval.get(p)! }]));
}

/** duration_ns per repetition of `repeat` repetitions in one run, ROUNDS times, on one machine per mode. */
function emulated(obj: ObjectFile, req: RunRequest): Record<string, Stat & { retval: number; x86_insns: number | null }> {
  const m = new Machine();
  try {
    m.loadObject(obj);
    return Object.fromEntries(LOOPS.map((prog) => {
      m.run(prog, req); // translate once
      const xs: number[] = [];
      let last = m.run(prog, req);
      for (let i = 0; i < ROUNDS; i++) {
        last = m.run(prog, req);
        if (last.error) throw new Error(`${prog}: ${last.error.message}`);
        xs.push(last.duration_ns);
      }
      const x86 = last.trace.x86_insns === null ? null : last.trace.x86_insns / (req.repeat ?? 1);
      return [prog, { ...stat(xs), retval: last.retval, x86_insns: x86 }];
    }));
  } finally {
    m.close();
  }
}

/** retval of koracle's run on a fresh machine: 1000 repetitions (store_loop's .bss adds up across them). */
function freshRetval(obj: ObjectFile, prog: string): number {
  const m = new Machine();
  try {
    m.loadObject(obj);
    return m.run(prog, { repeat: 1000 }).retval;
  } finally {
    m.close();
  }
}

/** Wall time of whole run() calls (set-up, start, checks, result) of a program that returns at once. */
function perRun(obj: ObjectFile): Record<string, { run_call_us: Stat; duration_us: Stat }> {
  const modes: [string, RunRequest][] = [['default budget', {}], ['no budget', { budget: { wallUs: 0 } }], ['x86 budget', { budget: { x86Insns: 1_000_000 } }]];
  return Object.fromEntries(modes.map(([name, req]) => {
    const m = new Machine();
    try {
      m.loadObject(obj);
      m.run('ret_zero', req);
      const call: number[] = [];
      const dur: number[] = [];
      for (let i = 0; i < ROUNDS * 20; i++) {
        const [r, ns] = timed(() => m.run('ret_zero', req));
        call.push(ns / 1e3);
        dur.push(r.duration_ns / 1e3);
      }
      return [name, { run_call_us: stat(call), duration_us: stat(dur) }];
    } finally {
      m.close();
    }
  }));
}

function setup(): unknown {
  const programs = join(root, 'programs');
  const fresh = stat(Array.from({ length: ROUNDS }, () => timed(() => new Machine().close())[1] / 1e6));
  const objects = [];
  for (const f of readdirSync(programs).filter((x) => x.endsWith('.bpf.o')).sort()) {
    let obj: ObjectFile;
    try {
      obj = loadObjectFile(join(programs, f));
    } catch {
      continue; // nobtf.bpf.o: an input for the loader's error
    }
    const load: number[] = [];
    const first: number[] = [];
    let loaded = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const m = new Machine();
      try {
        load.push(timed(() => m.loadObject(obj))[1] / 1e6);
        loaded = m.programs.size;
        const name = m.programs.keys().next().value;
        if (name !== undefined) first.push(timed(() => m.run(name))[1] / 1e6);
      } finally {
        m.close();
      }
    }
    objects.push({ object: f, programs: loaded, load_ms: stat(load), load_ms_per_program: loaded ? stat(load).median / loaded : null, first_run_ms: first.length ? stat(first) : null });
  }
  return { fresh_machine_and_close_ms: fresh, objects };
}

function conformance(): unknown {
  if (!existsSync(suite)) return null;
  const files = collectDataFiles([suite]);
  const backend = jitBackend(PROFILES['linux-5.10']);
  const passes: number[] = [];
  let summary = summarize([]);
  for (let i = 0; i < 3; i++) {
    const [results, ns] = timed(() => files.map((f) => runFile(backend, loadDataCase, f, f.replace(/^.*\//, ''))));
    passes.push(ms(ns));
    summary = summarize(results);
  }
  const cli: number[] = [];
  for (let i = 0; i < 3; i++) {
    const [r, ns] = timed(() => spawnSync(process.execPath, [join(root, 'bin/tailjit.js'), 'conformance', '--backend', 'jit', suite], { encoding: 'utf8' }));
    if (r.status !== 0) throw new Error(`tailjit conformance exited ${r.status}: ${r.stderr}`);
    cli.push(ms(ns));
  }
  const ran = summary.passed + summary.failed;
  return {
    files: files.length, ...summary,
    in_process_ms: stat(passes), per_test_run_ms: stat(passes).median / Math.max(ran, 1),
    command: 'node bin/tailjit.js conformance --backend jit', command_wall_ms: stat(cli),
  };
}

const obj = compileLoops();
const nat = native();
const modes = {
  default: emulated(obj, { repeat: 20 }),
  default_repeat1: emulated(obj, { repeat: 1 }),
  trace: emulated(obj, { repeat: 5, trace: true }),
  x86_budget: emulated(obj, { repeat: 20, budget: { x86Insns: 1_000_000_000 } }),
};
const loop = LOOPS.map((prog) => {
  const n = nat?.[prog]?.duration_ns ?? null;
  const ratio = (s: Stat): number | null => (n ? Math.round((s.median / n) * 10) / 10 : null);
  return {
    prog,
    x86_insns_per_run: modes.trace[prog].x86_insns,
    native_ns: n,
    emulated_ns: Object.fromEntries(Object.entries(modes).map(([k, v]) => [k, v[prog]])),
    ratio_to_native: Object.fromEntries(Object.entries(modes).map(([k, v]) => [k, ratio(v[prog])])),
    // the host runs its own kernel's JIT code (6.x: imul, no push/pop) of the same BPF program
    retval_matches_native: nat ? nat[prog].retval === freshRetval(obj, prog) : null,
  };
});
const doc = {
  bench: 'emu-perf',
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', loadavg: loadavg(), node: process.version, unicorn: `0x${ucVersion().toString(16)}` },
  rounds: ROUNDS,
  loop,
  per_run: perRun(obj),
  setup: setup(),
  conformance: conformance(),
  loadavg_after: loadavg(),
};
console.log(JSON.stringify(doc, null, 2));
rmSync(tmp, { recursive: true, force: true });
