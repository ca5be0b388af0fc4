// A conformance `.data` file as a ConformanceCase, through the assembler's data-file reader.

import { dataFileProgram, parseDataFile } from '../asm/index.js';
import type { CaseLoader, ConformanceCase } from './runner.js';
import { basename } from 'node:path';

export const loadDataCase: CaseLoader = (file, text) => {
  const data = parseDataFile(text, { file });
  if (data.skip !== undefined) return { skip: data.skip };
  const c: ConformanceCase = {
    file,
    name: basename(file).replace(/\.data$/, ''),
    insns: dataFileProgram(data),
    mem: data.mem ?? new Uint8Array(0),
    expected: data.result ?? 0n,
    ...(data.error !== undefined ? { expectedError: data.error } : {}),
  };
  return c;
};
