// The real proof: images the Linux 5.10.223 and 6.1.192 JITs produced (kvm-oracle, Debian
// 5.10.223-1 and 6.1.192-2 cloud kernels, qemu TCG, CPU EPYC-Milan, nokaslr; see each folder's
// meta.json), reproduced from their xlated instructions with the kernel's own image addresses and
// symbols, each with its release's profile. Only map addresses (which the dump replaces by map
// ids) are masked. Corpora per release: the JIT's purpose-built programs (test/jit/oracle), the
// ELF layer's programs (programs/expected/<release>), the kernel's tail-call selftests
// (programs/selftests/expected/<release>) and the verifier's fixtures (test/verifier/fixtures).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROFILES, type Profile } from '../../src/profile/index.js';
import { describeCorpus, fromScenario, fromSidecar, type Corpus, type OracleDoc } from './oracle-corpus.js';
import { restore } from './oracle-fixture.js';

const DIR = join(import.meta.dirname, 'oracle');
const PROGRAMS = join(import.meta.dirname, '..', '..', 'programs');
const SELFTESTS = join(PROGRAMS, 'selftests');
const FIXTURES = join(import.meta.dirname, '..', 'verifier', 'fixtures');

const RELEASES: { release: string; profile: Profile }[] = [
  { release: '5.10.223', profile: PROFILES['linux-5.10'] },
  { release: '6.1.192', profile: PROFILES['linux-6.1'] },
];
const CORPORA: Corpus[] = RELEASES.flatMap(({ release, profile }): Corpus[] => [
  { name: 'test/jit/oracle', oracle: 'kvm-oracle', release, profile, dir: join(DIR, `expected-${release}`), sites: fromSidecar(join(DIR, 'sites.json')) },
  { name: 'programs', oracle: 'kvm-oracle', release, profile, dir: join(PROGRAMS, 'expected', release), sites: fromSidecar(join(DIR, 'programs-sites.json')) },
  { name: 'programs/selftests', oracle: 'kvm-oracle', release, profile, dir: join(SELFTESTS, 'expected', release), sites: fromScenario(SELFTESTS) },
  // The kernel's symbols are those of the programs/ boots (nokaslr, the same kernel).
  { name: 'test/verifier/fixtures', oracle: 'kvm-oracle', release, profile, dir: join(FIXTURES, `expected-${release}`), sites: fromScenario(FIXTURES), kallsyms: join(PROGRAMS, 'expected', release, 'kallsyms.txt') },
]).filter((c) => existsSync(c.dir));

for (const corpus of CORPORA) describeCorpus(corpus);

describe('the direct/indirect rule applied to the xlated dumps', () => {
  it('agrees with the decisions derived by hand from tc_mix.c (key 3 direct, key 9 and a global key indirect)', () => {
    const doc = JSON.parse(readFileSync(join(DIR, 'expected-5.10.223', 'tc_mix.json'), 'utf8')) as OracleDoc;
    const byName = (n: string) => restore(doc.programs.find((p) => p.name === n)!, 4).prog;
    for (const n of ['entry', 'big224']) {
      const prog = byName(n);
      expect(prog.pokes.map((p) => p.key)).toEqual([3]);
      expect(prog.insns.filter((i) => i.code === 0xf5).map((i) => i.imm)).toEqual([1, 0, 0]);
    }
    expect(byName('self_loop').pokes.map((p) => p.key)).toEqual([2]);
  });
});
