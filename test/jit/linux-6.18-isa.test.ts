// The linux-6.18 profile's instruction cases against the 6.18.44 host kernel itself (koracle run
// directly, AMD EPYC family 0x1a with BMI2, SRSO "Safe RET" through srso_return_thunk; see each
// folder's meta.json): cpu v4 (movsx, sdiv/smod, bswap, ldsx, gotol), load-acquire and
// store-release (programs/isa), and the older instruction families of test/jit/oracle's jit_*
// programs (atomics, shifts by register with shlx/shrx/sarx, MUL/DIV/MOD, jumps, calls). Each
// program's xlated dump is JIT-ed with the kernel's own image addresses and symbols and compared
// byte for byte with its image. None of these programs has a prog array.
import { join } from 'node:path';
import { PROFILES } from '../../src/profile/index.js';
import { describeCorpus, type Sites } from './oracle-corpus.js';

const HOST = 'host-6.18.44-fc-v669';
const noProgArrays = (): Sites => ({ maxEntries: () => undefined, slots: { final: () => undefined } });
const corpus = (name: string, dir: string) => ({
  name, oracle: 'koracle on the host', release: HOST, profile: PROFILES['linux-6.18'], dir, sites: noProgArrays, returnThunk: 'srso_return_thunk',
});

describeCorpus(corpus('programs/isa', join(import.meta.dirname, '..', '..', 'programs', 'isa', 'expected', HOST)));
describeCorpus(corpus('test/jit/oracle', join(import.meta.dirname, 'oracle', `expected-${HOST}`)));
