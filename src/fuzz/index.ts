// The differential fuzzer's pure half: cases (programs as operations, scenario steps), their
// generation from a seed and their minimization. The runners are in emu/fuzz.
export * from './case.js';
export { Rng, caseRng, generateCase, type GenOptions } from './generate.js';
export { minimize, normalizeSteps, caseSize, type MinimizeResult } from './minimize.js';
