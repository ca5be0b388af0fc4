// The conformance suite (shared/conformance/tests beside the repository, 313 files), read through src/asm's public
// API and run on the interpreter with the suite's environment: r1/r2 = the `-- mem` bytes, helper
// 5 = unwind. Each file's `-- result` is the expected r0.

import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { dataFileProgram, readDataFile } from '../../src/asm/index.js';
import { Interpreter, conformanceHelpers } from '../../src/interp/index.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'conformance', 'tests');
const files = readdirSync(DIR).filter((f) => f.endsWith('.data')).sort();
const helpers = conformanceHelpers();

test('the suite has its 313 files', () => {
  expect(files.length).toBe(313);
});

test.each(files)('%s', (file) => {
  const data = readDataFile(join(DIR, file));
  expect(data.skip).toBeUndefined();
  const res = new Interpreter(dataFileProgram(data), { mem: data.mem?.slice(), helpers }).run();
  expect(res.r0).toBe(data.result);
});
