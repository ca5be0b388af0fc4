// programs/isa (cpu v4, load-acquire/store-release) on the emulated machine with the linux-6.18
// profile against the 6.18.44 host (koracle, programs/isa/expected/host-*): each run's return
// value, and each final image instruction for instruction (only bytes holding addresses may
// differ). The whole pipeline: ELF, the verifier's rewrites, the JIT, the emulated CPU.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { instructionShape } from '../helpers/images.js';
import { runScenarioFile } from '../../emu/scenario.js';
import { PROFILES } from '../../src/profile/index.js';

const DIR = join(import.meta.dirname, '../../programs/isa');
const HOST = join(DIR, 'expected/host-6.18.44-fc-v669');


interface Host {
  runs: { retval: number }[];
  programs: { name: string; jited_hex: string }[];
}

describe('programs/isa on the emulated 6.18 kernel against the 6.18.44 host', () => {
  for (const file of readdirSync(HOST).filter((f) => f.endsWith('.json') && f !== 'meta.json')) {
    const name = file.slice(0, -5);
    test(`${name}: return values and image`, () => {
      const host = JSON.parse(readFileSync(join(HOST, file), 'utf8')) as Host;
      const r = runScenarioFile(join(DIR, `${name}.json`), { profile: PROFILES['linux-6.18'] });
      expect(r.runs.map((x) => x.retval)).toEqual(host.runs.map((x) => x.retval));
      for (const p of host.programs) {
        const mine = r.programs.find((q) => q.name === p.name);
        expect(mine, p.name).toBeDefined();
        expect(instructionShape(mine!.jited_hex)).toEqual(instructionShape(p.jited_hex));
      }
    });
  }
});
