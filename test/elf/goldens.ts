// The kernel answers committed in programs/expected/ (koracle documents from kvm-oracle runs
// on Debian's 5.10.223 and 6.1.192 kernels, qemu EPYC-Milan): test inputs with an independent
// reason, since a real kernel produced them.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PROGRAMS = join(import.meta.dirname, '../../programs');
export const RELEASES = ['5.10.223', '6.1.192'] as const;

export interface GoldenRun {
  step: number; label: string; prog: string; retval: number;
  globals: Record<string, unknown>; sections: Record<string, string>;
}
export interface GoldenProgram {
  name: string; section: string; type: string; xlated_insn_count: number;
  jited_func_lens: number[]; xlated_hex: string;
}
export interface Golden {
  release: string; scenario: string; object: string;
  runs: GoldenRun[]; programs: GoldenProgram[];
}

/** Every scenario the kernel ran to the end (rejected ones have only a koracle_error). */
export function goldens(): Golden[] {
  const out: Golden[] = [];
  for (const release of RELEASES) {
    const dir = join(PROGRAMS, 'expected', release);
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json') && x !== 'meta.json').sort()) {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      if (doc.koracle_error) continue;
      out.push({ release, scenario: f.replace(/\.json$/, ''), object: doc.object, runs: doc.runs, programs: doc.programs });
    }
  }
  return out;
}

export const objectPath = (name: string): string => join(PROGRAMS, name);
export const readObject = (name: string): Uint8Array => new Uint8Array(readFileSync(objectPath(name)));
