// A loop-heavy program's time on the emulated 5.10 machine against the same program's time on
// the host kernel (koracle's duration_ns, BPF_PROG_TEST_RUN's own clock), plus what tracing and
// an instruction budget cost.
//
//   node dist/bench/emu-loop.js [REPEAT]        (KORACLE=path/to/koracle to name the oracle)
//
// The object is compiled from bench/emu-loop.bpf.c with the project's clang flags into a
// temporary folder. Without root or without koracle, the native column is left out.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObjectFile } from '../src/elf/index.js';
import { Machine, type RunBudget } from '../emu/harness/index.js';

const REPEAT = Number(process.argv[2] ?? 20);
const here = dirname(fileURLToPath(import.meta.url));
const root = [resolve(here, '..'), resolve(here, '../..'), process.cwd()].find((d) => existsSync(join(d, 'bench/emu-loop.bpf.c')))!;
const dir = mkdtempSync(join(tmpdir(), 'tailjit-bench-'));
const obj = join(dir, 'loop.bpf.o');
execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(root, 'bench/emu-loop.bpf.c'), '-o', obj]);
const PROGS = ['alu_loop', 'store_loop'];

function native(): Map<string, number> | undefined {
  const koracle = [process.env.KORACLE, join(root, '../shared/oracle/koracle/koracle'), '/tmp/koracle'].find((p) => p && existsSync(p));
  if (!koracle) return undefined;
  const scen = join(dir, 'loop.json');
  writeFileSync(scen, JSON.stringify({ object: obj, entry: PROGS[0], steps: PROGS.map((prog) => ({ run: { prog, repeat: 1000 } })) }));
  try {
    const doc = JSON.parse(execFileSync(koracle, [scen], { encoding: 'utf8' })) as { runs: { prog: string; duration_ns: number }[] };
    return new Map(doc.runs.map((r) => [r.prog, r.duration_ns]));
  } catch {
    return undefined;
  }
}

interface Row { prog: string; mode: string; nsPerRun: number; x86: number | null }

function emulated(mode: string, budget: RunBudget | undefined, trace: boolean): Row[] {
  const m = new Machine();
  try {
    m.loadObject(loadObjectFile(obj));
    return PROGS.map((prog) => {
      m.run(prog, { budget, trace }); // translate once
      const r = m.run(prog, { repeat: REPEAT, budget, trace });
      if (r.error) throw new Error(`${prog}: ${r.error.message}`);
      return { prog, mode, nsPerRun: r.duration_ns, x86: r.trace.x86_insns === null ? null : r.trace.x86_insns / REPEAT };
    });
  } finally {
    m.close();
  }
}

const nat = native();
const rows = [
  ...emulated('default (wall-time budget)', undefined, false),
  ...emulated('--trace (block hook)', undefined, true),
  ...emulated('x86 budget (count)', { x86Insns: 1_000_000_000 }, false),
];
const insns = new Map(rows.filter((r) => r.x86 !== null).map((r) => [r.prog, r.x86!]));
console.log(`repeat ${REPEAT}; native = host kernel ${nat ? '' : '(unavailable)'}`);
for (const prog of PROGS) {
  const n = nat?.get(prog);
  console.log(`\n${prog}: ${insns.get(prog)?.toFixed(0) ?? '?'} x86 instructions per run${n !== undefined ? `, native ${(n / 1000).toFixed(1)} us` : ''}`);
  for (const r of rows.filter((x) => x.prog === prog)) {
    const mips = insns.has(prog) ? ` ${((insns.get(prog)! / r.nsPerRun) * 1000).toFixed(0)} M insn/s` : '';
    const ratio = n ? `, ${(r.nsPerRun / n).toFixed(0)}x native` : '';
    console.log(`  ${r.mode.padEnd(28)} ${(r.nsPerRun / 1000).toFixed(1).padStart(9)} us/run${mips}${ratio}`);
  }
}
rmSync(dir, { recursive: true, force: true });
