// The harness: programs loaded into the modeled kernel, run as BPF_PROG_TEST_RUN runs them,
// observed through a few code hooks (see machine.ts, run.ts, observer.ts).
export { Machine, type MachineOptions, type SnapshotProgram } from './machine.js';
export { testRun, RunSession, DEFAULT_WALL_US, type ResumeOptions, type RunBudget, type RunProgress, type RunRequest, type RunResult } from './run.js';
export { Observer, funcName, type Check, type CheckName, type ObservedFrame, type RunTrace, type TraceEvent } from './observer.js';
export { loadVerified, type LoadedProgram, type TailCallSite } from './program.js';
export { HarnessError, type HarnessErrorCode, type RunError, type RunErrorKind } from './errors.js';
