// The Linux 5.10 and 6.1 x86-64 BPF JITs, byte for byte (x86-jit.md, tailcalls.md); the
// profile's `jit` section says which release's rules apply.
export { jitProgram, moduleAreaAllocator } from './driver.js';
export { JitBug, JitError, type JitBugCode, type JitErrorCode } from './errors.js';
export { bpfInsnAt, insnRange } from './lookup.js';
export {
  imageMemory, pokeBytes, progArrayMapPokeRun, tailCallDirectFixup, textPoke,
  type PokeResult, type PokeSite, type TextMemory, type TextWrite,
} from './poke.js';
export type {
  Addrs, ExtableEntry, ImageAllocator, ImageRequest, JitFunc, JitOptions, JitPoke, JitResult, KernelSymbols, SlotTarget,
} from './types.js';
export { formatListing, formatFuncListing, type ListingOptions } from './listing.js';
export { checkSupported } from './supported.js';
