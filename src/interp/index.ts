// The reference interpreter: tailjit's reference semantics for the whole BPF ISA.
export { InterpError, type AccessKind, type InterpErrorDetails, type RunStats } from './errors.js';
export {
  Memory, Region, INPUT_BASE, ENV_REGION_BASE, STACK_AREA_BASE, STACK_SIZE,
  type AccessSize, type RegionSpec,
} from './memory.js';
export { InterpProgram, Kind, Op, decodeProgram } from './program.js';
export {
  Environment, MAP_OBJECT_BASE, progArray,
  type InterpEnvironment, type ProgArray, type PseudoSite,
} from './env.js';
export {
  HelperRegistry, UNWIND_HELPER_ID, conformanceHelpers,
  type HelperContext, type HelperEntry, type HelperFn,
} from './helpers.js';
export {
  Interpreter, runProgram, DEFAULT_INSN_BUDGET, MAX_CALL_FRAMES,
  type Budget, type InterpOptions, type RunResult,
} from './interpreter.js';
