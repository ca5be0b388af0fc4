// Set-up cost on the emulated machine: a fresh machine (unicorn engine, kernel text, stack,
// hooks), and per object of programs/ its load (maps, then every program verified, JIT-ed and
// written to module memory with its struct bpf_prog and hooks) and its first run (which
// translates the code). Best of several tries; the machine is noisy.
//
//   node dist/bench/emu-setup.js [TRIES]

import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObjectFile, type ObjectFile } from '../src/elf/index.js';
import { Machine } from '../emu/harness/index.js';

const TRIES = Number(process.argv[2] ?? 5);
const here = dirname(fileURLToPath(import.meta.url));
const programs = [resolve(here, '../programs'), resolve(here, '../../programs'), resolve('programs')].find(existsSync)!;

function best(f: () => number): number {
  let min = Infinity;
  for (let i = 0; i < TRIES; i++) min = Math.min(min, f());
  return min;
}

const time = (f: () => void): number => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};

console.log(`fresh machine and close: ${best(() => time(() => new Machine().close())).toFixed(2)} ms`);
for (const f of readdirSync(programs).filter((x) => x.endsWith('.bpf.o')).sort()) {
  let obj: ObjectFile;
  try {
    obj = loadObjectFile(join(programs, f));
  } catch {
    continue; // nobtf.bpf.o: an input for the loader's error
  }
  let loaded = 0;
  let firstRun = Infinity;
  const load = best(() => {
    const m = new Machine();
    try {
      const ms = time(() => m.loadObject(obj));
      loaded = m.programs.size;
      const name = m.programs.keys().next().value;
      if (name !== undefined) firstRun = Math.min(firstRun, time(() => m.run(name)));
      return ms;
    } finally {
      m.close();
    }
  });
  if (!loaded) {
    console.log(`${f.padEnd(24)} rejected by the verifier in ${load.toFixed(2)} ms`);
    continue;
  }
  console.log(`${f.padEnd(24)} ${loaded} programs: load ${load.toFixed(2)} ms (${(load / loaded).toFixed(2)} ms per program), first run ${firstRun.toFixed(2)} ms`);
}
