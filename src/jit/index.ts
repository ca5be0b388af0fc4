// The Linux 5.10 x86-64 BPF JIT, byte for byte (x86-jit.md, tailcalls.md).
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
export { formatListing, type ListingOptions } from './listing.js';
