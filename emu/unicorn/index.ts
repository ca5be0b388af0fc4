// emu/unicorn: a small typed binding over libunicorn 2.0.1 (Debian's libunicorn2) through koffi.
// See README.md in this folder for the API at a glance and the measured costs.

export { Unicorn } from './unicorn.js';
export type {
  CodeHook, HookHandle, InsnInvalidHook, InterruptHook, MemAccessHook, MemInvalidHook, MemRegion,
  OpenOptions, StartOptions, StartResult,
} from './unicorn.js';
export { Context } from './context.js';
export { UnicornError, UnicornUnavailableError, memTypeName, ucErrName } from './errors.js';
export type { MemFault } from './errors.js';
export { regWidth } from './registers.js';
export { ucVersion } from './native.js';
export * from './consts.js';
