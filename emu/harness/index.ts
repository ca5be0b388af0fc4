// The harness: programs loaded into the modeled kernel, run as BPF_PROG_TEST_RUN runs them,
// observed through a few code hooks (see machine.ts, run.ts, observer.ts).
export { Machine, type MachineOptions, type SnapshotProgram } from './machine.js';
export { testRun, DEFAULT_WALL_US, type RunBudget, type RunRequest, type RunResult } from './run.js';
export { Observer, funcName, type Check, type CheckName, type RunTrace, type TraceEvent } from './observer.js';
export { loadVerified, type LoadedProgram, type TailCallSite } from './program.js';
export { HarnessError, type HarnessErrorCode, type RunError, type RunErrorKind } from './errors.js';
