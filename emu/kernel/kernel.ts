// The modeled 5.10 x86-64 kernel: one unicorn engine with kernel text (thunks, helper stubs,
// the entry stub), a THREAD_SIZE stack between guard pages, JIT images in the module area,
// maps and program objects, and the symbol table it hands to the verifier (`KernelLayout`) and
// the JIT (`KernelSymbols`). The harness (emu/harness) runs programs on it.

import { Unicorn, X86Reg } from '../unicorn/index.js';
import type { MapSpec, ProgTypeName } from '../../src/elf/types.js';
import type { Profile } from '../../src/profile/index.js';
import type { ImageAllocator, ImageRequest, KernelSymbols } from '../../src/jit/types.js';
import type { KernelLayout } from '../../src/verifier/types.js';
import { KernelError } from './errors.js';
import { KERNEL_FUNCTIONS, Prandom, type HelperEnv, type KernelFunction } from './helpers.js';
import { createMap, type EmuMap } from './maps.js';
import { KernelMemory, PAGE_SIZE, pageUp } from './memory.js';
import { bpfProg, PROG_TYPE, skBuff } from './structs.js';
import {
  ALL_SYMBOLS, ENTRY_STUB, HELPER_STUB, PLAIN_RETURN_THUNK, SRSO_SAFE_RET, TEXT_FILL, entryStub, retpoline, srsoReturnThunk,
} from './text.js';

/** THREAD_SIZE on x86-64 (16 KiB, KASAN off). */
export const THREAD_SIZE = 16 * 1024;
/**
 * rsp when the entry stub starts, below the top of the stack: the syscall's struct pt_regs
 * (168 bytes) and the frames of __x64_sys_bpf -> bpf_prog_test_run -> bpf_test_run ->
 * bpf_dispatcher_nop_func, modeled as 512 bytes in all (16-byte aligned, as at a C call).
 */
export const ENTRY_STACK_USE = 0x200;

/**
 * Kernel data the verifier's rewrites address: `jiffies` at the reference guest's address (the
 * ld_imm64 of bpf_jiffies64's inlining in programs/selftests/expected/5.10.223, nokaslr).
 */
export const KERNEL_DATA: ReadonlyMap<string, bigint> = new Map([['jiffies', 0xffffffff82607980n]]);
/**
 * The fixed value of `jiffies` (it never ticks in the model): INITIAL_JIFFIES of CONFIG_HZ=250,
 * (u32)(-300 * HZ), plus 250 ticks for the 1 s of uptime the modeled clock starts at.
 */
export const JIFFIES_VALUE = 0x1_0000_0000n - 300n * 250n + 250n;

/** BPF r1..r5 as the JIT maps them: rdi, rsi, rdx, rcx, r8. */
const ARG_REGS = [X86Reg.RDI, X86Reg.RSI, X86Reg.RDX, X86Reg.RCX, X86Reg.R8];

export interface KernelOptions {
  readonly profile: Profile;
  /** Helpers and rewrite targets to install (default: the kernel's). */
  readonly functions?: readonly KernelFunction[];
  /** Seed of bpf_get_prandom_u32 and of the image placement. */
  readonly seed?: bigint;
}

/** One run's view of the helpers' side effects. */
export interface HelperRunState {
  printk: string[];
  /** Set by a helper that ends the run (unwind). */
  stopped?: { r0: bigint };
  /** The first helper that faulted. */
  fault?: { symbol: string; message: string };
}

/** struct bpf_prog in emulated memory. */
export interface ProgObject {
  readonly address: bigint;
  readonly name: string;
  readonly bpfFunc: bigint;
}

export class Kernel {
  readonly uc: Unicorn;
  readonly mem: KernelMemory;
  readonly profile: Profile;
  readonly symbolTable: ReadonlyMap<string, bigint>;
  /** The stack's lowest and one-past-highest address. */
  readonly stackBase: bigint;
  readonly stackTop: bigint;
  /** rsp when the entry stub starts. */
  readonly entryRsp: bigint;
  /** rsp at the entry stub's call, where the program's return address goes below. */
  readonly callRsp: bigint;
  /** Where the entry stub starts, where each call returns to, and where a run stops. */
  readonly entryStub: bigint;
  readonly entryAfterCall: bigint;
  readonly entryReturn: bigint;
  readonly maps: EmuMap[] = [];
  readonly #mapByAddr = new Map<bigint, EmuMap>();
  readonly #functions = new Map<bigint, KernelFunction>();
  readonly #helperAddr = new Map<number, bigint>();
  readonly #prandom: Prandom;
  readonly #placement: Prandom;
  #clockNs = 1_000_000_000n;
  #run: HelperRunState = { printk: [] };
  #closed = false;

  constructor(options: KernelOptions) {
    this.profile = options.profile;
    const seed = options.seed ?? 0x7a11_5eedn;
    this.#prandom = new Prandom(seed);
    this.#placement = new Prandom(seed ^ 0x1a9e5n);
    this.uc = Unicorn.open();
    try {
      this.mem = new KernelMemory(this.uc);
      this.#env = this.#makeEnv(this.mem);
      const functions = options.functions ?? KERNEL_FUNCTIONS;
      const symbols = new Map(ALL_SYMBOLS);
      this.symbolTable = symbols;
      // Hooks first: with nothing mapped yet the binding has no translated blocks to drop.
      for (const f of functions) this.#installFunction(f);
      this.mem.mapTextPages(symbols, TEXT_FILL, this.#text(functions));
      this.#mapKernelData();
      const stack = this.mem.alloc('vmalloc', THREAD_SIZE, 'the kernel stack', 'stack', { guardBefore: 1, guardAfter: 1 });
      this.stackBase = stack.begin;
      this.stackTop = stack.end;
      this.entryRsp = stack.end - BigInt(ENTRY_STACK_USE);
      this.callRsp = this.entryRsp - BigInt(ENTRY_STUB.frame);
      this.entryStub = this.symbol('tailjit_test_run');
      this.entryAfterCall = this.entryStub + BigInt(ENTRY_STUB.afterCall);
      this.entryReturn = this.entryStub + BigInt(ENTRY_STUB.stop);
    } catch (e) {
      this.uc.close();
      throw e;
    }
  }

  /** One page per kernel data symbol, holding its value (only `jiffies` so far). */
  #mapKernelData(): void {
    const at = KERNEL_DATA.get('jiffies')!;
    const page = at & ~BigInt(PAGE_SIZE - 1);
    const value = new Uint8Array(8);
    new DataView(value.buffer).setBigUint64(0, JIFFIES_VALUE, true);
    this.mem.mapAt(page, PAGE_SIZE, 'kernel data (jiffies)', 'object', { symbols: new Map([[at, 'jiffies']]), contents: [[Number(at - page), value]] });
  }

  symbol(name: string): bigint {
    const a = this.symbolTable.get(name);
    if (a === undefined) throw new KernelError('kernel.unknown', `no kernel symbol ${name}`);
    return a;
  }

  /** What the JIT needs (x86-jit.md §6): `__bpf_call_base`, the thunks, ex_handler_bpf. */
  get jitSymbols(): KernelSymbols {
    return {
      bpfCallBase: this.symbol('__bpf_call_base'),
      returnThunk: this.symbol('srso_alias_return_thunk'),
      indirectThunkRcx: this.symbol('__x86_indirect_thunk_rcx'),
      exHandlerBpf: this.symbol('ex_handler_bpf'),
    };
  }

  /** What the verifier needs, for an object whose map `i` is `this.maps[mapBase + i]`. */
  layout(mapBase = 0): KernelLayout {
    const map = (i: number): EmuMap => {
      const m = this.maps[mapBase + i];
      if (!m) throw new KernelError('kernel.unknown', `no map ${i}`);
      return m;
    };
    return {
      bpfCallBase: this.symbol('__bpf_call_base'),
      helperAddress: (id) => this.#helperAddr.get(id),
      mapAddress: (i) => map(i).address,
      mapValueAddress: (i) => {
        const m = map(i);
        if (m.kind !== 'array') throw new KernelError('kernel.unknown', `map ${m.name} has no direct value address (not an array map)`);
        return m.valueAddress;
      },
      kernelSymbol: (name) => (this.#isInstalled(name) ? this.symbolTable.get(name) : KERNEL_DATA.get(name)),
    };
  }

  #isInstalled(name: string): boolean {
    const a = this.symbolTable.get(name);
    return a !== undefined && this.#functions.has(a);
  }

  /** The installed function at a stub address (for describing call targets). */
  functionAt(addr: bigint): KernelFunction | undefined {
    return this.#functions.get(addr);
  }

  // --- text ----------------------------------------------------------------------------------

  /** The kernel text's bytes by address (the thunks, the entry stub, each function's stub), written as the pages are mapped. */
  #text(functions: readonly KernelFunction[]): Map<bigint, Uint8Array> {
    const s = (n: string) => this.symbol(n);
    const text = new Map<bigint, Uint8Array>([
      [s('__x86_indirect_thunk_rcx'), retpoline('rcx')],
      [s('__x86_indirect_thunk_rdx'), retpoline('rdx')],
      [s('srso_alias_safe_ret'), SRSO_SAFE_RET],
      [s('srso_alias_return_thunk'), srsoReturnThunk(s('srso_alias_return_thunk'), s('srso_alias_safe_ret'))],
      [s('__x86_return_thunk'), PLAIN_RETURN_THUNK],
      [s('tailjit_test_run'), entryStub(s('tailjit_test_run'), s('__x86_indirect_thunk_rdx'))],
    ]);
    for (const f of functions) text.set(s(f.symbol), HELPER_STUB);
    return text;
  }

  #installFunction(f: KernelFunction): void {
    const at = this.symbol(f.symbol);
    this.#functions.set(at, f);
    if (f.id !== null) this.#helperAddr.set(f.id, at);
    this.uc.hookCode(() => this.#callFunction(f), at, at);
  }

  #callFunction(f: KernelFunction): void {
    const uc = this.uc;
    const args: bigint[] = [0n, 0n, 0n, 0n, 0n];
    for (let i = 0; i < f.args; i++) args[i] = uc.regRead(ARG_REGS[i]);
    let r0: bigint;
    try {
      r0 = f.fn(this.#env, args[0], args[1], args[2], args[3], args[4]);
    } catch (e) {
      // A HelperFault, or the engine refusing a bad pointer (UC_ERR_READ_UNMAPPED).
      this.#run.fault ??= { symbol: f.symbol, message: e instanceof Error ? e.message : String(e) };
      uc.stop();
      return;
    }
    uc.regWrite(X86Reg.RAX, BigInt.asUintN(64, r0));
    if (this.#run.stopped) uc.stop();
  }

  readonly #env: HelperEnv;

  #makeEnv(mem: KernelMemory): HelperEnv {
    return {
      mem,
      skBuff: skBuff(this.profile.verifier.ctx.skb),
      mapAt: (addr) => this.#mapByAddr.get(addr),
      printk: (line) => this.#run.printk.push(line),
      prandomU32: () => this.#prandom.next(),
      ktimeNs: () => (this.#clockNs += 1000n),
      cpu: 0,
      stopRun: (r0) => {
        this.#run.stopped = { r0 };
      },
    };
  }

  /** Starts a fresh helper state for a run and returns it (filled in while the run goes). */
  beginRun(): HelperRunState {
    this.#run = { printk: [] };
    return this.#run;
  }

  /** The end of a run is an RCU grace period for the maps (retired hash elements). */
  gracePeriod(): void {
    for (const m of this.maps) if (m.kind === 'hash') m.gracePeriod();
  }

  // --- maps and programs ---------------------------------------------------------------------

  /** Creates maps for `specs`; returns the index of the first (the object's map base). */
  addMaps(specs: readonly MapSpec[]): number {
    const base = this.maps.length;
    specs.forEach((spec, i) => {
      const m = createMap(this.mem, this.profile.jit, i, spec);
      this.maps.push(m);
      this.#mapByAddr.set(m.address, m);
    });
    return base;
  }

  /**
   * bpf_jit_binary_alloc(): a page-rounded allocation of size + 8-byte header + 128 in the
   * module area, filled with int3, the image at a random 4-byte-aligned offset after the header.
   */
  get imageAllocator(): ImageAllocator {
    return (req: ImageRequest) => {
      const header = 8;
      const total = pageUp(req.size + header + 128);
      const label = req.func === 0 ? `bpf image ${req.prog}` : `bpf image ${req.name} (func ${req.func} of ${req.prog})`;
      // struct bpf_binary_header { u32 pages; ... }, written with the fill (one write to r-x memory).
      const pages = new Uint8Array(4);
      new DataView(pages.buffer).setUint32(0, total / PAGE_SIZE, true);
      const region = this.mem.alloc('modules', total, label, 'image', { fill: 0xcc, contents: [[0, pages]] });
      const hole = Math.min(total - (req.size + header), PAGE_SIZE - header);
      const start = (this.#placement.next() % hole) & ~3;
      return region.begin + BigInt(header + start);
    };
  }

  /** Writes a finished image (or any code) into the module area. */
  writeImage(address: bigint, bytes: Uint8Array): void {
    this.mem.writeText(address, bytes);
  }

  /** Allocates struct bpf_prog for a loaded program (with its xlated instructions after it). */
  addProgObject(name: string, type: ProgTypeName, bpfFunc: bigint, xlated: Uint8Array, jitedLen: number): ProgObject {
    const L = bpfProg(this.profile.jit);
    const region = this.mem.alloc('directMap', L.insnsi + xlated.length, `struct bpf_prog ${name}`, 'object');
    const a = region.begin;
    this.mem.writeU16(a + BigInt(L.pages), pageUp(L.insnsi + xlated.length) / PAGE_SIZE);
    this.mem.writeU16(a + 2n, 1); // jited:1
    this.mem.writeU32(a + BigInt(L.type), PROG_TYPE[type]);
    this.mem.writeU32(a + BigInt(L.len), xlated.length / 8);
    this.mem.writeU32(a + BigInt(L.jitedLen), jitedLen);
    this.mem.writeU64(a + BigInt(L.bpfFunc), bpfFunc);
    this.mem.write(a + BigInt(L.insnsi), xlated);
    return { address: a, name, bpfFunc };
  }

  /** The address of `struct bpf_prog.insnsi` (what __BPF_PROG_RUN passes in rsi). */
  insnsiOf(prog: ProgObject): bigint {
    return prog.address + BigInt(bpfProg(this.profile.jit).insnsi);
  }

  describe(addr: bigint): string {
    return this.mem.describe(addr);
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.uc.close();
  }
}
