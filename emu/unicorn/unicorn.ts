// A small typed binding over libunicorn 2.0.1, in the manner of unicorn's Python binding:
// - every uc_* failure throws UnicornError (uc_err number, name, uc_strerror text, the call);
// - every native callback is registered with koffi and kept in a Map keyed by hook handle until
//   hookDel/close, so it can neither be collected nor leak its trampoline slot;
// - an exception thrown by a hook is recorded (the first one wins), emulation is stopped with
//   uc_emu_stop, and start() re-throws it once uc_emu_start has returned.
//
// Costs (measured, see emu/unicorn/README.md): a binding call is ~0.3 us (koffi); a code hook
// that fires ~0.15-0.25 us plus the JS callback; a hook with a narrow [begin, end] range costs
// nothing for code outside it, since unicorn 2 decides at translation time which instructions
// call it. Register and small memory accessors reuse per-engine scratch buffers and allocate
// nothing but their bigint results; memRead allocates only the returned array, memReadInto
// nothing. start() costs ~4 us, ~0.3-0.5 ms with a timeout (a timer thread per run).

import { UcArch, UcControlType, UcErr, UcHookType, UcMemType, UcMode, UcProt, UcQueryType, UC_CTL_IO_WRITE, X86Reg } from './consts.js';
import { Context, newContext } from './context.js';
import { MemFault, UnicornError } from './errors.js';
import { callbackTypes, ffi, native } from './native.js';
import { RegScratch, regWidth } from './registers.js';
import { argError, checkCount, checkFlags, checkU64, checkValue, hex } from './args.js';

/** A hook handle as returned by uc_hook_add (a pointer-sized value); only hookDel consumes it. */
export type HookHandle = bigint & { readonly __ucHook: unique symbol };

/** Called before each instruction (hookCode) or basic block (hookBlock) in range. */
export type CodeHook = (address: bigint, size: number) => void;
/**
 * Called on an invalid access (unmapped, or against page protections). Return true to retry the
 * access after making it valid (mapping or re-protecting the page in the hook), false to stop with
 * the matching UC_ERR_*. `value` is the value being written, zero-extended to `size` bytes.
 */
export type MemInvalidHook = (type: UcMemType, address: bigint, size: number, value: bigint) => boolean;
/** Called on each valid access of the selected kinds (read/write/fetch), e.g. for watchpoints. */
export type MemAccessHook = (type: UcMemType, address: bigint, size: number, value: bigint) => void;
/** Called on `int n`, `int3`, CPU exceptions such as #DE; emulation resumes after it returns. */
export type InterruptHook = (intno: number) => void;
/** Called on an undecodable instruction. Return true to continue (after fixing rip), false to stop. */
export type InsnInvalidHook = () => boolean;

export interface OpenOptions {
  /**
   * Record the last invalid memory access so a failing start() can say where it faulted
   * (UnicornError.fault). Costs one always-false UC_HOOK_MEM_INVALID hook, which runs only on
   * faults. Default true.
   */
  recordFaults?: boolean;
}

export interface StartOptions {
  /** Stop after this many microseconds (uc_emu_start's timeout; a timer thread per run). */
  timeoutUs?: number;
  /**
   * Stop after this many instructions. unicorn counts with an internal code hook on every
   * instruction (about 4x slower than uncounted code), and once an engine has used count, later
   * runs keep that hook (see start()).
   */
  count?: number;
}

export interface StartResult {
  /** The run ended because timeoutUs elapsed (uc_query UC_QUERY_TIMEOUT). */
  timedOut: boolean;
}

export interface MemRegion {
  begin: bigint;
  /** Inclusive, as uc_mem_region reports it. */
  end: bigint;
  perms: UcProt | number;
}

const MEM_ERR_TYPE = new Map<number, number>([
  [UcErr.READ_UNMAPPED, UcMemType.READ_UNMAPPED],
  [UcErr.WRITE_UNMAPPED, UcMemType.WRITE_UNMAPPED],
  [UcErr.FETCH_UNMAPPED, UcMemType.FETCH_UNMAPPED],
  [UcErr.READ_PROT, UcMemType.READ_PROT],
  [UcErr.WRITE_PROT, UcMemType.WRITE_PROT],
  [UcErr.FETCH_PROT, UcMemType.FETCH_PROT],
]);

const MEM_ACCESS_KINDS = UcHookType.MEM_VALID | UcHookType.MEM_READ_AFTER;
/** sizeof(uc_mem_region): two uint64_t and a uint32_t, padded to 8. */
const MEM_REGION_SIZE = 24;
/** UC_X86_REG_MSR takes a uc_x86_msr { uint32_t rid; uint64_t value; }: value at offset 8. */
const MSR_VALUE_SLOT = 1;

/**
 * One hook's koffi registration. `live` turns false on hookDel: unicorn 2.0.1 keeps calling a
 * deleted code hook until the end of the translated block it is in, so the JS side must ignore it.
 */
interface HookRecord {
  ptr: bigint;
  live: boolean;
  /** The UC_HOOK_* bits and range it was added with. */
  type: number;
  begin: bigint;
  end: bigint;
}

const U64_MAX = (1n << 64n) - 1n;
/** An instruction count no run reaches (2^53 - 1 instructions is years of emulation). */
const UNREACHED_COUNT = Number.MAX_SAFE_INTEGER;

/**
 * Hook kinds unicorn 2.0.1 compiles into translated blocks: blocks translated before such a hook
 * was added never call it. So adding one (and, to shed the dead calls, deleting one) drops the
 * cached blocks of its range with uc_ctl_remove_cache, well under a millisecond even for 256 MiB.
 * Not the whole cache: uc_ctl_flush_tb memsets the 1 GiB code buffer (seconds the first time on
 * an engine, and +1 GiB RSS; ~20 ms after).
 */
const TRANSLATED_HOOKS = UcHookType.CODE | UcHookType.BLOCK | UcHookType.MEM_VALID | UcHookType.MEM_READ_AFTER;

/**
 * Native memory for uc_reg_*_batch, which takes an int array of register ids and an array of
 * pointers to values: `capacity` ids, `capacity` uint64 slots, and pointers to those slots, with
 * typed-array views on the ids and values.
 */
interface BatchBuffers {
  capacity: number;
  regsPtr: bigint;
  regs: Int32Array;
  valsPtr: bigint;
  vals: BigUint64Array;
  ptrs: bigint;
}

function allocBatch(capacity: number): BatchBuffers {
  const regsPtr = ffi.alloc('int', capacity);
  const valsPtr = ffi.alloc('uint64_t', capacity);
  const ptrs = ffi.alloc('void *', capacity);
  const ptrView = new BigUint64Array(ffi.view(ptrs, capacity * 8));
  for (let i = 0; i < capacity; i++) ptrView[i] = valsPtr + BigInt(8 * i);
  return {
    capacity,
    regsPtr,
    regs: new Int32Array(ffi.view(regsPtr, capacity * 4)),
    valsPtr,
    vals: new BigUint64Array(ffi.view(valsPtr, capacity * 8)),
    ptrs,
  };
}

/** uc_ctl's control word: UC_CTL(type, nr, rw) from unicorn.h. */
function ucCtl(type: number, nr: number, rw: number): number {
  return type | (nr << 26) | (rw << 30);
}

/** koffi 3.3.4 hands 64-bit callback arguments over as signed numbers or bigints. */
function u64(v: number | bigint): bigint {
  return BigInt.asUintN(64, BigInt(v));
}

function memValue(v: number | bigint, size: number): bigint {
  return BigInt.asUintN(Math.min(size, 8) * 8, BigInt(v));
}

export class Unicorn {
  readonly arch: UcArch;
  readonly mode: number;

  #uc: bigint;
  #closed = false;
  #running = false;
  /** The registered koffi callback of every live hook. */
  readonly #hooks = new Map<HookHandle, HookRecord>();
  /** Ranges of translation-time hooks added or deleted during a run, invalidated by the next start(). */
  #pendingInvalidate: [bigint, bigint][] = [];
  /** A run used `count`, so unicorn's count hook is installed; see start(). */
  #counting = false;
  /** Callbacks of hooks deleted during a run, unregistered once uc_emu_start returns. */
  #deferredUnregister: bigint[] = [];
  readonly #contexts = new Set<Context>();
  #hookError: { error: unknown } | undefined;
  #lastFault: MemFault | undefined;
  readonly #scratch = new RegScratch();
  readonly #out64 = new BigUint64Array(1);
  readonly #out32 = new Uint32Array(1);
  #batch: BatchBuffers | undefined;
  /** The fault recorder's hook, which is not counted in hookCount. */
  #recorder: HookHandle | undefined;

  private constructor(uc: bigint, arch: UcArch, mode: number) {
    this.#uc = uc;
    this.arch = arch;
    this.mode = mode;
  }

  /** uc_open. Defaults to x86-64. */
  static open(arch: UcArch = UcArch.X86, mode: number = UcMode.MODE_64, options: OpenOptions = {}): Unicorn {
    const n = native();
    const out = new BigUint64Array(1);
    const err = n.uc_open(arch, mode, out);
    if (err !== UcErr.OK) throw new UnicornError(`uc_open(${arch}, ${hex(mode)})`, err, n.uc_strerror(err));
    const uc = new Unicorn(out[0], arch, mode);
    if (options.recordFaults ?? true) uc.#addFaultRecorder();
    return uc;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** uc_close, after which every method throws UC_ERR_HANDLE. Frees hooks and contexts. Idempotent. */
  close(): void {
    if (this.#closed) return;
    if (this.#running) throw argError('close', 'cannot close the engine from inside one of its hooks');
    this.#closed = true;
    for (const ctx of [...this.#contexts]) ctx.free();
    native().uc_close(this.#uc);
    for (const rec of this.#hooks.values()) ffi.unregister(rec.ptr);
    this.#hooks.clear();
    if (this.#batch) this.#freeBatch(this.#batch);
  }

  // --- memory ---------------------------------------------------------------------------------

  /** uc_mem_map: `addr` and `size` must be page aligned (4 KiB). */
  memMap(addr: bigint, size: number, prot: number = UcProt.ALL): void {
    checkU64('memMap', 'addr', addr);
    checkCount('memMap', 'size', size);
    this.#check(() => `uc_mem_map(${hex(addr)}, ${hex(size)}, ${prot})`, native().uc_mem_map(this.#handle('memMap'), addr, size, prot));
  }

  /** uc_mem_unmap (may split a region). */
  memUnmap(addr: bigint, size: number): void {
    checkU64('memUnmap', 'addr', addr);
    checkCount('memUnmap', 'size', size);
    this.#check(() => `uc_mem_unmap(${hex(addr)}, ${hex(size)})`, native().uc_mem_unmap(this.#handle('memUnmap'), addr, size));
  }

  /** uc_mem_protect (may split a region). */
  memProtect(addr: bigint, size: number, prot: number): void {
    checkU64('memProtect', 'addr', addr);
    checkCount('memProtect', 'size', size);
    this.#check(() => `uc_mem_protect(${hex(addr)}, ${hex(size)}, ${prot})`,
      native().uc_mem_protect(this.#handle('memProtect'), addr, size, prot));
  }

  /** uc_mem_regions, in address order. */
  memRegions(): MemRegion[] {
    const n = native();
    this.#check(() => 'uc_mem_regions', n.uc_mem_regions(this.#handle('memRegions'), this.#out64, this.#out32));
    const ptr = this.#out64[0];
    const count = this.#out32[0];
    if (count === 0) return [];
    try {
      // A copy, not a koffi.view: with a view of this array each engine kept about 0.3 MB after
      // uc_close (measured on 2.0.1 with koffi 3.3.4), and hook additions read it every time.
      const bytes = ffi.copy(ptr, count * MEM_REGION_SIZE);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const regions: MemRegion[] = [];
      for (let i = 0; i < count; i++) {
        const at = i * MEM_REGION_SIZE;
        regions.push({
          begin: view.getBigUint64(at, true),
          end: view.getBigUint64(at + 8, true),
          perms: view.getUint32(at + 16, true),
        });
      }
      return regions;
    } finally {
      n.uc_free(ptr);
    }
  }

  /** uc_mem_read into a new array (the allocation is most of its cost for small reads). */
  memRead(addr: bigint, size: number): Uint8Array {
    const out = new Uint8Array(checkCount('memRead', 'size', size));
    this.#readInto('memRead', addr, out);
    return out;
  }

  /** uc_mem_read into `dst` (all of it); allocation-free. */
  memReadInto(addr: bigint, dst: Uint8Array): void {
    this.#readInto('memReadInto', addr, dst);
  }

  /** uc_mem_write of all of `bytes`; no copy is made on the JS side. */
  memWrite(addr: bigint, bytes: Uint8Array): void {
    checkU64('memWrite', 'addr', addr);
    this.#check(() => `uc_mem_write(${hex(addr)}, ${bytes.length})`,
      native().uc_mem_write(this.#handle('memWrite'), addr, bytes, bytes.length));
  }

  /** A little-endian uint64 from memory (scratch buffer, no allocation but the bigint). */
  memReadU64(addr: bigint): bigint {
    checkU64('memReadU64', 'addr', addr);
    this.#check(() => `uc_mem_read(${hex(addr)}, 8)`, native().uc_mem_read(this.#handle('memReadU64'), addr, this.#out64, 8));
    return this.#out64[0];
  }

  /** Store a little-endian 64-bit value (signed or unsigned). */
  memWriteU64(addr: bigint, value: bigint): void {
    checkU64('memWriteU64', 'addr', addr);
    this.#out64[0] = checkValue('memWriteU64', 'value', value, 8);
    this.#check(() => `uc_mem_write(${hex(addr)}, 8)`, native().uc_mem_write(this.#handle('memWriteU64'), addr, this.#out64, 8));
  }

  // --- registers ------------------------------------------------------------------------------

  /**
   * uc_reg_read. Plain registers come back zero-extended to 64 bits (AL, EAX and RAX alike);
   * XMM/YMM/ZMM as 128/256/512-bit values, x87 ST/FP as the 80-bit image (mantissa | exp << 64).
   * MSRs have msrRead; descriptor-table registers are not supported.
   */
  regRead(reg: number): bigint {
    const width = this.#regWidth('regRead', reg);
    this.#scratch.clear(width);
    this.#check(() => `uc_reg_read(${reg})`, native().uc_reg_read(this.#handle('regRead'), reg, this.#scratch.u64));
    return this.#scratch.decode(width);
  }

  /** uc_reg_write. Values may be given signed or unsigned; narrow registers take the low bytes. */
  regWrite(reg: number, value: bigint): void {
    const width = this.#regWidth('regWrite', reg);
    this.#scratch.encode(checkValue('regWrite', 'value', value, width), width);
    this.#check(() => `uc_reg_write(${reg})`, native().uc_reg_write(this.#handle('regWrite'), reg, this.#scratch.u64));
  }

  /**
   * uc_reg_read_batch for plain (<= 64-bit) registers: one native call, but koffi's per-call cost
   * is small enough that it only pays off beyond ~16 registers (see README.md).
   */
  regReadBatch(regs: readonly number[]): bigint[] {
    const batch = this.#batchFor('regReadBatch', regs);
    const n = regs.length;
    batch.vals.fill(0n, 0, n);
    this.#check(() => `uc_reg_read_batch(${n})`, native().uc_reg_read_batch(this.#handle('regReadBatch'), batch.regsPtr, batch.ptrs, n));
    const out = new Array<bigint>(n);
    for (let i = 0; i < n; i++) out[i] = batch.vals[i];
    return out;
  }

  /** uc_reg_write_batch for plain (<= 64-bit) registers, one native call. */
  regWriteBatch(regs: readonly number[], values: readonly bigint[]): void {
    if (values.length !== regs.length) throw argError('regWriteBatch', `${regs.length} registers but ${values.length} values`);
    const batch = this.#batchFor('regWriteBatch', regs);
    for (let i = 0; i < values.length; i++) batch.vals[i] = checkValue('regWriteBatch', `values[${i}]`, values[i], 8);
    this.#check(() => `uc_reg_write_batch(${regs.length})`,
      native().uc_reg_write_batch(this.#handle('regWriteBatch'), batch.regsPtr, batch.ptrs, regs.length));
  }

  /** rdmsr through UC_X86_REG_MSR (x86 only). */
  msrRead(msr: number): bigint {
    this.#msrPrepare('msrRead', msr);
    this.#check(() => `uc_reg_read(MSR ${hex(msr)})`, native().uc_reg_read(this.#handle('msrRead'), X86Reg.MSR, this.#scratch.u64));
    return this.#scratch.u64[MSR_VALUE_SLOT];
  }

  /** wrmsr through UC_X86_REG_MSR (x86 only). */
  msrWrite(msr: number, value: bigint): void {
    this.#msrPrepare('msrWrite', msr);
    this.#scratch.u64[MSR_VALUE_SLOT] = checkValue('msrWrite', 'value', value, 8);
    this.#check(() => `uc_reg_write(MSR ${hex(msr)})`, native().uc_reg_write(this.#handle('msrWrite'), X86Reg.MSR, this.#scratch.u64));
  }

  // --- running --------------------------------------------------------------------------------

  /**
   * uc_emu_start from `begin` until rip reaches `until` (or an exit set with ctlSetExits), a hook
   * calls stop(), `timeoutUs` elapses, or `count` instructions have run. Throws UnicornError for
   * an emulation error (with `fault` for memory errors), or re-throws the first exception a hook
   * threw.
   */
  start(begin: bigint, until: bigint, options: StartOptions = {}): StartResult {
    checkU64('start', 'begin', begin);
    checkU64('start', 'until', until);
    const timeout = BigInt(checkCount('start', 'timeoutUs', options.timeoutUs ?? 0));
    const count = checkCount('start', 'count', options.count ?? 0);
    const uc = this.#handle('start');
    if (this.#running) throw argError('start', 'start() cannot be nested inside a hook');
    const n = native();
    for (const [b, e] of this.#pendingInvalidate.splice(0)) this.#invalidate(b, e);
    const effectiveCount = this.#effectiveCount(count);
    this.#hookError = undefined;
    this.#lastFault = undefined;
    this.#running = true;
    let err: number;
    try {
      err = n.uc_emu_start(uc, begin, until, timeout, effectiveCount);
    } finally {
      this.#running = false;
      this.#flushDeferredUnregister();
    }
    const hookError = this.#takeHookError();
    if (hookError) throw hookError.error;
    if (err !== UcErr.OK) {
      const fault = this.#faultFor(err);
      throw new UnicornError(`uc_emu_start(${hex(begin)}, ${hex(until)})`, err, n.uc_strerror(err), fault);
    }
    return { timedOut: timeout > 0n && this.query(UcQueryType.TIMEOUT) !== 0 };
  }

  /** uc_emu_stop; meant for hooks. The current instruction is not executed (rip stays on it). */
  stop(): void {
    this.#check(() => 'uc_emu_stop', native().uc_emu_stop(this.#handle('stop')));
  }

  /** uc_query, e.g. UcQueryType.PAGE_SIZE. */
  query(type: UcQueryType): number {
    this.#check(() => `uc_query(${type})`, native().uc_query(this.#handle('query'), type, this.#out64));
    return Number(this.#out64[0]);
  }

  /** The engine's page size (uc_query UC_QUERY_PAGE_SIZE): 4096 on x86. */
  pageSize(): number {
    return this.query(UcQueryType.PAGE_SIZE);
  }

  /**
   * uc_ctl_flush_tb: drop every translated block. Avoid: in 2.0.1 it memsets the whole 1 GiB
   * code buffer (seconds the first time on an engine, +1 GiB RSS; ~20 ms after). ctlRemoveCache
   * does the same for a range in microseconds.
   */
  ctlFlushTb(): void {
    this.#ctl('uc_ctl_flush_tb', ucCtl(UcControlType.TB_FLUSH, 0, UC_CTL_IO_WRITE));
  }

  /** uc_ctl_remove_cache: drop translated blocks covering [begin, end). */
  ctlRemoveCache(begin: bigint, end: bigint): void {
    checkU64('ctlRemoveCache', 'begin', begin);
    checkU64('ctlRemoveCache', 'end', end);
    this.#ctl('uc_ctl_remove_cache', ucCtl(UcControlType.TB_REMOVE_CACHE, 2, UC_CTL_IO_WRITE), 'uint64_t', begin, 'uint64_t', end);
  }

  /**
   * uc_ctl exits: with a list, a run stops when rip reaches any of them and start()'s `until` is
   * ignored; with null, `until` applies again.
   */
  ctlSetExits(exits: readonly bigint[] | null): void {
    const useExits = ucCtl(UcControlType.UC_USE_EXITS, 1, UC_CTL_IO_WRITE);
    if (exits === null) {
      this.#ctl('uc_ctl_exits_disable', useExits, 'int', 0);
      return;
    }
    const list = BigUint64Array.from(exits, (e, i) => checkU64('ctlSetExits', `exits[${i}]`, e));
    this.#ctl('uc_ctl_exits_enable', useExits, 'int', 1);
    this.#ctl('uc_ctl_set_exits', ucCtl(UcControlType.UC_EXITS, 2, UC_CTL_IO_WRITE), 'void *', list, 'size_t', list.length);
  }

  // --- hooks ----------------------------------------------------------------------------------

  /** UC_HOOK_CODE over [begin, end] (inclusive; begin > end means everywhere, the default). */
  hookCode(cb: CodeHook, begin = 1n, end = 0n): HookHandle {
    return this.#codeHook('hookCode', UcHookType.CODE, cb, begin, end);
  }

  /** UC_HOOK_BLOCK over [begin, end]; `size` is the block's byte length. */
  hookBlock(cb: CodeHook, begin = 1n, end = 0n): HookHandle {
    return this.#codeHook('hookBlock', UcHookType.BLOCK, cb, begin, end);
  }

  #codeHook(call: string, type: number, cb: CodeHook, begin: bigint, end: bigint): HookHandle {
    return this.#hook(call, type, callbackTypes().code, begin, end, (rec) =>
      (_uc: unknown, address: number | bigint, size: number) => {
        if (!rec.live) return;
        try {
          cb(u64(address), size);
        } catch (e) {
          this.#fail(e);
        }
      });
  }

  /** Invalid accesses of the given kinds (default UC_HOOK_MEM_INVALID = all unmapped and prot). */
  hookMemInvalid(cb: MemInvalidHook, kinds: number = UcHookType.MEM_INVALID, begin = 1n, end = 0n): HookHandle {
    checkFlags('hookMemInvalid', 'kinds', kinds, UcHookType.MEM_INVALID);
    return this.#hook('hookMemInvalid', kinds, callbackTypes().eventMem, begin, end, (rec) =>
      (_uc: unknown, type: UcMemType, address: number | bigint, size: number, value: number | bigint) => {
        if (!rec.live) return false;
        try {
          return cb(type, u64(address), size, memValue(value, size)) === true;
        } catch (e) {
          this.#fail(e);
          return false;
        }
      });
  }

  /** Valid accesses of the given kinds (default UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE) in range. */
  hookMemAccess(cb: MemAccessHook, kinds: number = UcHookType.MEM_READ | UcHookType.MEM_WRITE, begin = 1n, end = 0n): HookHandle {
    checkFlags('hookMemAccess', 'kinds', kinds, MEM_ACCESS_KINDS);
    return this.#hook('hookMemAccess', kinds, callbackTypes().mem, begin, end, (rec) =>
      (_uc: unknown, type: UcMemType, address: number | bigint, size: number, value: number | bigint) => {
        if (!rec.live) return;
        try {
          cb(type, u64(address), size, memValue(value, size));
        } catch (e) {
          this.#fail(e);
        }
      });
  }

  /** UC_HOOK_INTR: software interrupts and CPU exceptions. */
  hookInterrupt(cb: InterruptHook): HookHandle {
    return this.#hook('hookInterrupt', UcHookType.INTR, callbackTypes().intr, 1n, 0n, (rec) => (_uc: unknown, intno: number) => {
      if (!rec.live) return;
      try {
        cb(intno);
      } catch (e) {
        this.#fail(e);
      }
    });
  }

  /** UC_HOOK_INSN_INVALID. */
  hookInsnInvalid(cb: InsnInvalidHook): HookHandle {
    return this.#hook('hookInsnInvalid', UcHookType.INSN_INVALID, callbackTypes().insnInvalid, 1n, 0n, (rec) => () => {
      if (!rec.live) return false;
      try {
        return cb() === true;
      } catch (e) {
        this.#fail(e);
        return false;
      }
    });
  }

  /**
   * uc_hook_del. Safe inside a hook: the callback stops being called at once and its koffi
   * registration is released when the run ends.
   */
  hookDel(handle: HookHandle): void {
    const uc = this.#handle('hookDel');
    const rec = handle === this.#recorder ? undefined : this.#hooks.get(handle);
    // uc_hook is a pointer inside the engine: never pass it one it did not hand out.
    if (rec === undefined) throw argError('hookDel', `unknown hook handle ${typeof handle === 'bigint' ? hex(handle) : typeof handle}`);
    this.#check(() => `uc_hook_del(${hex(handle)})`, native().uc_hook_del(uc, handle));
    rec.live = false;
    this.#hooks.delete(handle);
    if (this.#running) this.#deferredUnregister.push(rec.ptr);
    else ffi.unregister(rec.ptr);
    this.#afterHookChange(rec);
  }

  /** Number of hooks added through this binding and not yet deleted. */
  get hookCount(): number {
    return this.#hooks.size - (this.#recorder === undefined ? 0 : 1);
  }

  // --- contexts -------------------------------------------------------------------------------

  /** uc_context_save, into `into` when given (no allocation) or into a new Context. */
  contextSave(into?: Context): Context {
    const uc = this.#handle('contextSave');
    const n = native();
    let ctx = into;
    if (ctx === undefined) {
      this.#check(() => 'uc_context_alloc', n.uc_context_alloc(uc, this.#out64));
      ctx = newContext(this.#out64[0], this.arch, (c) => this.#contexts.delete(c));
      this.#contexts.add(ctx);
    }
    this.#check(() => 'uc_context_save', n.uc_context_save(uc, ctx.handle('contextSave')));
    return ctx;
  }

  /** uc_context_restore (registers only; memory is not part of a context). */
  contextRestore(ctx: Context): void {
    this.#check(() => 'uc_context_restore', native().uc_context_restore(this.#handle('contextRestore'), ctx.handle('contextRestore')));
  }

  // --- internals ------------------------------------------------------------------------------

  #handle(call: string): bigint {
    if (this.#closed) throw new UnicornError(call, UcErr.HANDLE, 'the engine is closed');
    return this.#uc;
  }

  /** `describe` is a thunk so the happy path builds no strings. */
  #check(describe: () => string, err: number): void {
    if (err !== UcErr.OK) throw new UnicornError(describe(), err, native().uc_strerror(err));
  }

  #readInto(call: string, addr: bigint, dst: Uint8Array): void {
    checkU64(call, 'addr', addr);
    this.#check(() => `uc_mem_read(${hex(addr)}, ${dst.length})`, native().uc_mem_read(this.#handle(call), addr, dst, dst.length));
  }

  #ctl(call: string, control: number, ...typedArgs: unknown[]): void {
    this.#check(() => call, native().uc_ctl(this.#handle(call), control, ...typedArgs));
  }

  #regWidth(call: string, reg: number): number {
    const width = regWidth(this.arch, reg);
    if (width === 0) throw argError(call, `register ${reg} is not a plain register value (see msrRead)`);
    return width;
  }

  #msrPrepare(call: string, msr: number): void {
    if (this.arch !== UcArch.X86) throw argError(call, 'MSRs exist on x86 only');
    if (!Number.isInteger(msr) || msr < 0 || msr > 0xffffffff) throw argError(call, `msr must be a uint32, got ${msr}`);
    this.#scratch.u64[0] = BigInt(msr);
    this.#scratch.u64[MSR_VALUE_SLOT] = 0n;
  }

  /** The native batch buffers, grown to fit, with `regs` copied in after validation. */
  #batchFor(call: string, regs: readonly number[]): BatchBuffers {
    this.#handle(call);
    let batch = this.#batch;
    if (batch === undefined || batch.capacity < regs.length) {
      if (batch) this.#freeBatch(batch);
      batch = this.#batch = allocBatch(Math.max(16, regs.length));
    }
    for (let i = 0; i < regs.length; i++) {
      if (regWidth(this.arch, regs[i]) !== 8) throw argError(call, `regs[${i}] = ${regs[i]} is not a plain register`);
      batch.regs[i] = regs[i];
    }
    return batch;
  }

  #freeBatch(batch: BatchBuffers): void {
    for (const p of [batch.valsPtr, batch.ptrs, batch.regsPtr]) ffi.free(p);
    this.#batch = undefined;
  }

  /** `make` builds the native callback around the hook's record (for its `live` flag). */
  #hook(call: string, type: number, cbType: Parameters<typeof ffi.register>[1], begin: bigint, end: bigint,
    make: (rec: HookRecord) => (...args: never[]) => unknown): HookHandle {
    checkU64(call, 'begin', begin);
    checkU64(call, 'end', end);
    const uc = this.#handle(call);
    // koffi 3.3.4: a callback registered while a callback runs throws RangeError ("Maximum call
    // stack size exceeded") when it is called from a later top-level native call.
    if (this.#running) throw argError(call, 'hooks cannot be added from inside a hook');
    const rec: HookRecord = { ptr: 0n, live: true, type, begin, end };
    rec.ptr = ffi.register(make(rec), cbType);
    const err = native().uc_hook_add(uc, this.#out64, type, rec.ptr, null, begin, end);
    if (err !== UcErr.OK) {
      ffi.unregister(rec.ptr);
      throw new UnicornError(`uc_hook_add(${hex(type)}, ${hex(begin)}, ${hex(end)})`, err, native().uc_strerror(err));
    }
    const handle = this.#out64[0] as HookHandle;
    this.#hooks.set(handle, rec);
    this.#afterHookChange(rec);
    return handle;
  }

  /** See TRANSLATED_HOOKS. During a run (hookDel in a hook) the next start() drops them. */
  #afterHookChange(rec: HookRecord): void {
    if ((rec.type & TRANSLATED_HOOKS) === 0) return;
    if (this.#running) this.#pendingInvalidate.push([rec.begin, rec.end]);
    else this.#invalidate(rec.begin, rec.end);
  }

  /** Drop cached blocks of mapped memory in the hook range [begin, end] (begin > end: all). */
  #invalidate(begin: bigint, end: bigint): void {
    const everywhere = begin > end;
    for (const r of this.memRegions()) {
      const lo = everywhere || r.begin > begin ? r.begin : begin;
      const hi = everywhere || r.end < end ? r.end : end;
      // uc_ctl_remove_cache's end is exclusive; the top byte of the address space cannot be
      // named, but invalidation works on whole pages, so hi stays covered.
      if (lo <= hi) this.ctlRemoveCache(lo, hi === U64_MAX ? hi : hi + 1n);
    }
  }

  /** Arrow so hook closures can call it without binding. */
  readonly #fail = (error: unknown): void => {
    this.#hookError ??= { error };
    native().uc_emu_stop(this.#uc);
  };

  /**
   * Once an engine has counted, keep counting: a run with count 0 makes unicorn delete its count
   * hook and flush the translation cache, which in 2.0.1 memsets the whole 1 GiB code buffer
   * (seconds, and +1 GiB RSS). A count no run reaches keeps the hook at its usual cost instead.
   */
  #effectiveCount(count: number): number {
    if (count > 0) this.#counting = true;
    return count === 0 && this.#counting ? UNREACHED_COUNT : count;
  }

  // Both are set by callbacks during uc_emu_start, which TS's narrowing cannot see.
  #takeHookError(): { error: unknown } | undefined {
    const e = this.#hookError;
    this.#hookError = undefined;
    return e;
  }

  #faultFor(err: number): MemFault | undefined {
    const fault = this.#lastFault;
    return fault !== undefined && fault.type === MEM_ERR_TYPE.get(err) ? fault : undefined;
  }

  #addFaultRecorder(): void {
    this.#recorder = this.#hook('open', UcHookType.MEM_INVALID, callbackTypes().eventMem, 1n, 0n, () =>
      (_uc: unknown, type: UcMemType, address: number | bigint, size: number) => {
        this.#lastFault = { type, address: u64(address), size };
        return false;
      });
  }

  #flushDeferredUnregister(): void {
    for (const cb of this.#deferredUnregister) ffi.unregister(cb);
    this.#deferredUnregister = [];
  }
}
