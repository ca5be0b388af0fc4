// The reference interpreter as a conformance backend.

import { TailjitError } from '../errors.js';
import { conformanceHelpers, runProgram, type Budget } from '../interp/index.js';
import type { Profile } from '../profile/index.js';
import type { Backend, BackendOutcome, ConformanceCase } from './runner.js';

export function interpBackend(profile: Profile, budget: Budget = {}): Backend {
  const helpers = conformanceHelpers();
  return {
    name: 'interp',
    run(c: ConformanceCase): BackendOutcome {
      try {
        // The interpreter writes the input in place; each run gets its own copy.
        const { r0 } = runProgram(c.insns, { profile, helpers, mem: c.mem.slice(), budget });
        return { kind: 'returned', r0 };
      } catch (e) {
        if (e instanceof TailjitError) return { kind: 'error', message: e.format({ file: c.file }) };
        throw e;
      }
    },
  };
}
