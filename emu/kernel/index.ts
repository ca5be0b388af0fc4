// The modeled Linux 5.10 x86-64 kernel the JIT images run in (see kernel.ts).
export { Kernel, THREAD_SIZE, ENTRY_STACK_USE, type KernelOptions, type HelperRunState, type ProgObject } from './kernel.js';
export { KernelError, type KernelErrorCode } from './errors.js';
export { KernelMemory, AREAS, PAGE_SIZE, type AreaName } from './memory.js';
export { RegionMap, type Region, type RegionKind } from './regions.js';
export { ArrayMap, HashMap, ProgArrayMap, Errno, createMap, type EmuMap } from './maps.js';
export { KERNEL_FUNCTIONS, CONFORMANCE_FUNCTIONS, Prandom, type HelperEnv, type HelperFn, type KernelFunction } from './helpers.js';
export { formatTracePrintk, parseTracePrintk } from './printk.js';
export { rawContext, skbContext, testRunContext, xdpContext, type RunArgs } from './ctx.js';
export { classify, pokeSite, progArrayPokeRun, siteState, siteTarget, type PokeRunReport, type PokeState, type PokeStep, type TrackedSite } from './poke.js';
export { ALL_SYMBOLS, KALLSYMS, TAILJIT_SYMBOLS } from './text.js';
