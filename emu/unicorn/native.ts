// The raw FFI: libunicorn.so.2 loaded once through koffi, with the prototypes of unicorn.h
// (2.0.1). Nothing here validates or converts; unicorn.ts does that. Engine, context and hook
// handles are plain pointers (koffi 3 represents pointers as bigint), so no named koffi types are
// registered and nothing here can clash with another module's koffi declarations.
//
// Calling convention notes:
// - Output pointers are passed as reused typed arrays (koffi hands the callee a pointer to their
//   contents, no copy), e.g. a BigUint64Array(1) for `uc_engine **` or `uc_hook *`.
// - uc_hook_add and uc_ctl are variadic in C and are declared variadic here; extra arguments are
//   passed as koffi (type, value) pairs.

import koffi, { type LibraryHandle, type TypeObject } from 'koffi';
import { UnicornUnavailableError } from './errors.js';

type Ptr = bigint;
/** Anything koffi accepts for a `void *` argument. */
type Buf = ArrayBufferView | Ptr | null;

export interface UcNative {
  uc_version(major: null, minor: null): number;
  uc_arch_supported(arch: number): boolean;
  uc_open(arch: number, mode: number, outEngine: BigUint64Array): number;
  uc_close(uc: Ptr): number;
  uc_query(uc: Ptr, type: number, outResult: BigUint64Array): number;
  uc_ctl(uc: Ptr, control: number, ...typedArgs: unknown[]): number;
  uc_strerror(err: number): string;
  uc_reg_write(uc: Ptr, regid: number, value: Buf): number;
  uc_reg_read(uc: Ptr, regid: number, value: Buf): number;
  uc_reg_write_batch(uc: Ptr, regs: Ptr, vals: Ptr, count: number): number;
  uc_reg_read_batch(uc: Ptr, regs: Ptr, vals: Ptr, count: number): number;
  uc_mem_write(uc: Ptr, address: bigint, bytes: Buf, size: number): number;
  uc_mem_read(uc: Ptr, address: bigint, bytes: Buf, size: number): number;
  uc_emu_start(uc: Ptr, begin: bigint, until: bigint, timeout: bigint, count: number): number;
  uc_emu_stop(uc: Ptr): number;
  uc_hook_add(uc: Ptr, outHook: BigUint64Array, type: number, callback: Ptr, userData: null,
    begin: bigint, end: bigint, ...typedArgs: unknown[]): number;
  uc_hook_del(uc: Ptr, hook: bigint): number;
  uc_mem_map(uc: Ptr, address: bigint, size: number, perms: number): number;
  uc_mem_unmap(uc: Ptr, address: bigint, size: number): number;
  uc_mem_protect(uc: Ptr, address: bigint, size: number, perms: number): number;
  uc_mem_regions(uc: Ptr, outRegions: BigUint64Array, outCount: Uint32Array): number;
  uc_free(mem: Ptr): number;
  uc_context_alloc(uc: Ptr, outContext: BigUint64Array): number;
  uc_context_save(uc: Ptr, context: Ptr): number;
  uc_context_restore(uc: Ptr, context: Ptr): number;
  uc_context_reg_write(context: Ptr, regid: number, value: Buf): number;
  uc_context_reg_read(context: Ptr, regid: number, value: Buf): number;
  uc_context_free(context: Ptr): number;
}

/** The C prototypes, spelled as in unicorn.h with handles as `void *`. */
const PROTOTYPES: Record<keyof UcNative, string> = {
  uc_version: 'unsigned int uc_version(void *major, void *minor)',
  uc_arch_supported: 'bool uc_arch_supported(int arch)',
  uc_open: 'int uc_open(int arch, int mode, void *uc)',
  uc_close: 'int uc_close(void *uc)',
  uc_query: 'int uc_query(void *uc, int type, void *result)',
  uc_ctl: 'int uc_ctl(void *uc, int control, ...)',
  uc_strerror: 'const char *uc_strerror(int code)',
  uc_reg_write: 'int uc_reg_write(void *uc, int regid, const void *value)',
  uc_reg_read: 'int uc_reg_read(void *uc, int regid, void *value)',
  uc_reg_write_batch: 'int uc_reg_write_batch(void *uc, void *regs, void *vals, int count)',
  uc_reg_read_batch: 'int uc_reg_read_batch(void *uc, void *regs, void *vals, int count)',
  uc_mem_write: 'int uc_mem_write(void *uc, uint64_t address, const void *bytes, size_t size)',
  uc_mem_read: 'int uc_mem_read(void *uc, uint64_t address, void *bytes, size_t size)',
  uc_emu_start: 'int uc_emu_start(void *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)',
  uc_emu_stop: 'int uc_emu_stop(void *uc)',
  uc_hook_add: 'int uc_hook_add(void *uc, void *hh, int type, void *callback, void *user_data, uint64_t begin, uint64_t end, ...)',
  uc_hook_del: 'int uc_hook_del(void *uc, size_t hh)',
  uc_mem_map: 'int uc_mem_map(void *uc, uint64_t address, size_t size, uint32_t perms)',
  uc_mem_unmap: 'int uc_mem_unmap(void *uc, uint64_t address, size_t size)',
  uc_mem_protect: 'int uc_mem_protect(void *uc, uint64_t address, size_t size, uint32_t perms)',
  uc_mem_regions: 'int uc_mem_regions(void *uc, void *regions, void *count)',
  uc_free: 'int uc_free(void *mem)',
  uc_context_alloc: 'int uc_context_alloc(void *uc, void *context)',
  uc_context_save: 'int uc_context_save(void *uc, void *context)',
  uc_context_restore: 'int uc_context_restore(void *uc, void *context)',
  uc_context_reg_write: 'int uc_context_reg_write(void *ctx, int regid, const void *value)',
  uc_context_reg_read: 'int uc_context_reg_read(void *ctx, int regid, void *value)',
  uc_context_free: 'int uc_context_free(void *context)',
};

/**
 * Callback types of unicorn.h, as koffi pointer-to-prototype types for koffi.register.
 * koffi 3.3.4 decodes `uint64_t`/`int64_t` callback arguments as *signed* 64-bit values (a
 * number when exact, else a bigint): 0xffffffffc0000000 arrives as -1073741824. The binding
 * therefore re-reads every 64-bit argument with BigInt.asUintN.
 */
export interface UcCallbackTypes {
  /** uc_cb_hookcode_t: void (uc, uint64_t address, uint32_t size, void *user) */
  code: TypeObject;
  /** uc_cb_hookintr_t: void (uc, uint32_t intno, void *user) */
  intr: TypeObject;
  /** uc_cb_hookinsn_invalid_t: bool (uc, void *user) */
  insnInvalid: TypeObject;
  /** uc_cb_hookmem_t: void (uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user) */
  mem: TypeObject;
  /** uc_cb_eventmem_t: bool (uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user) */
  eventMem: TypeObject;
}

interface Loaded {
  fns: UcNative;
  callbacks: UcCallbackTypes;
}

let loaded: Loaded | undefined;

const LIBRARY = 'libunicorn.so.2';

function load(): Loaded {
  let lib: LibraryHandle;
  try {
    lib = koffi.load(LIBRARY);
  } catch (e) {
    throw new UnicornUnavailableError(e instanceof Error ? e.message : String(e));
  }
  const fns = {} as Record<string, unknown>;
  for (const [name, proto] of Object.entries(PROTOTYPES)) fns[name] = lib.func(proto);
  const ptrTo = (result: string, args: string[]) => koffi.pointer(koffi.proto(result, args));
  const callbacks: UcCallbackTypes = {
    code: ptrTo('void', ['void *', 'uint64_t', 'uint32_t', 'void *']),
    intr: ptrTo('void', ['void *', 'uint32_t', 'void *']),
    insnInvalid: ptrTo('bool', ['void *', 'void *']),
    mem: ptrTo('void', ['void *', 'int', 'uint64_t', 'int', 'int64_t', 'void *']),
    eventMem: ptrTo('bool', ['void *', 'int', 'uint64_t', 'int', 'int64_t', 'void *']),
  };
  return { fns: fns as unknown as UcNative, callbacks };
}

/** The loaded library (loaded on first use). Throws UnicornUnavailableError when it is missing. */
export function native(): UcNative {
  return (loaded ??= load()).fns;
}

export function callbackTypes(): UcCallbackTypes {
  return (loaded ??= load()).callbacks;
}

/**
 * uc_version() of the loaded library. 2.0.1 returns 0x020001ff (major << 24 | minor << 16 |
 * patch << 8 | extra), not the `major << 8 | minor` that unicorn.h's comment describes.
 */
export function ucVersion(): number {
  return native().uc_version(null, null);
}

/** koffi.register / unregister / alloc / view / decode, re-exported so only this file imports koffi. */
export const ffi = {
  register: (fn: (...args: never[]) => unknown, type: TypeObject): bigint => koffi.register(fn, type),
  unregister: (ptr: bigint): void => koffi.unregister(ptr),
  alloc: (type: string, length: number): bigint => koffi.alloc(type, length) as bigint,
  free: (ptr: bigint): void => koffi.free(ptr),
  view: (ptr: bigint, length: number): ArrayBuffer => koffi.view(ptr, length),
  /** A copy of native bytes (no view kept: see Unicorn.memRegions). */
  copy: (ptr: bigint, length: number): Uint8Array => koffi.decode(ptr, 'uint8_t', length) as Uint8Array,
};
