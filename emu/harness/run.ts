// One BPF_PROG_TEST_RUN on the modeled kernel: the context built for the program's type, then
// the entry stub (kernel text, text.ts) started once with unicorn: it calls bpf_func through
// __x86_indirect_thunk_rdx `repeat` times with rdi = ctx and rsi = insnsi, as bpf_test_run()'s
// loop does. A code hook where each call returns checks rsp and the callee-saved registers the
// harness seeded; retval is eax of the last repetition, r0 the whole rax.
// Faults, traps, exhausted budgets and failed checks end the run with a structured error.

import { TailjitError } from '../../src/errors.js';
import { bpfInsnAt } from '../../src/jit/index.js';
import { UcMemType, UnicornError, X86Reg, memTypeName, type HookHandle, type Unicorn } from '../unicorn/index.js';
import { rawContext, testRunContext, type RunArgs } from '../kernel/ctx.js';
import type { HelperRunState } from '../kernel/kernel.js';
import { HarnessError, hexAddr, RunStop, type RunError, type RunErrorKind } from './errors.js';
import type { Machine } from './machine.js';
import type { RunTrace } from './observer.js';
import type { LoadedProgram } from './program.js';
import { BlockCounter, locateReadFault, locateWriteFault } from './x86.js';

/**
 * Limits of one test run, all repetitions together. The default is wall time only: unicorn's `count` puts a code hook on
 * every instruction, which with the harness's few narrow hooks makes JIT-ed code 3-10 times
 * slower (bench/emu-loop.ts), while a timeout costs a fixed ~0.4 ms per start (a timer thread).
 */
export interface RunBudget {
  /** x86 instructions (unicorn's `count`, deterministic); 0 or absent = no limit. */
  readonly x86Insns?: number;
  /** Wall time in microseconds; 0 = no limit. Default DEFAULT_WALL_US unless x86Insns is given. */
  readonly wallUs?: number;
}

export interface RunRequest {
  /** The frame handed to the program (default: `dataSize` zero bytes). */
  readonly data?: Uint8Array;
  /** Default 64 (scenario.md). */
  readonly dataSize?: number;
  /** Instead of a packet: raw memory, r1 = its address and r2 = its length (the conformance suite). */
  readonly raw?: Uint8Array;
  /** Default 1. */
  readonly repeat?: number;
  readonly budget?: RunBudget;
  /** Count x86 instructions (a block hook on all code: several times slower). */
  readonly trace?: boolean;
  /** Record every call, tail call and return with its rsp (`trace.events`). */
  readonly events?: boolean;
}

export interface RunResult {
  readonly prog: string;
  readonly repeat: number;
  readonly data_size: number;
  /** eax of the last repetition, as the test run reports it (u32). */
  readonly retval: number;
  /** The whole rax. */
  readonly r0: bigint;
  /** Wall time per repetition of the emulated run. */
  readonly duration_ns: number;
  /** bpf_trace_printk output, one entry per call. */
  readonly printk: readonly string[];
  readonly trace: RunTrace;
  readonly error: RunError | null;
  /** The packet after the run (programs may write it). */
  readonly packet?: Uint8Array;
}

/** 10 s: a run that would go on for hours on the real kernel (tailcalls.md §8.2) ends as `budget`. */
export const DEFAULT_WALL_US = 10_000_000;

/** Callee-saved registers and the values the harness seeds them with (recognizable in a dump). */
const SEEDED: readonly [string, number, bigint][] = [
  ['rbx', X86Reg.RBX, 0x5eed_0000_0000_0b00n],
  ['rbp', X86Reg.RBP, 0x5eed_0000_0000_0b90n],
  ['r12', X86Reg.R12, 0x5eed_0000_0000_0c12n],
  ['r13', X86Reg.R13, 0x5eed_0000_0000_0c13n],
  ['r14', X86Reg.R14, 0x5eed_0000_0000_0c14n],
  ['r15', X86Reg.R15, 0x5eed_0000_0000_0c15n],
];

export function testRun(machine: Machine, prog: LoadedProgram, req: RunRequest): RunResult {
  const progress = new RunSession(machine, prog, req).resume();
  if (progress.state !== 'done') throw new HarnessError('harness.bug', `the test run of ${prog.name} paused with no one to resume it`);
  return progress.result;
}

/** How far one `resume()` of a run session goes. */
export interface ResumeOptions {
  /** Pause after this many x86 instructions (1: a single step); the run's x86 budget does not apply. */
  readonly step?: number;
  /**
   * Pause when rip reaches one of these addresses, before that instruction runs and before any
   * hook sees it (unicorn exits). The instruction at the current rip runs first even when it is
   * listed (resuming from a breakpoint), and pauses there again if the code comes back to it.
   */
  readonly pauseAt?: Iterable<bigint>;
}

export type RunProgress =
  | { readonly state: 'paused'; readonly rip: bigint; readonly why: 'step' | 'address' | 'request' }
  | { readonly state: 'done'; readonly result: RunResult };

/**
 * One test run that can be paused and resumed (a debugger drives it; `testRun` resumes it once).
 * Each `resume()` is one `uc.start()` from where the last one stopped; the checks of each return
 * to the entry stub run in its code hook, whichever start() that happens in, and the end-of-run
 * checks once, when rip reaches the stub's stop address.
 */
export class RunSession {
  readonly machine: Machine;
  readonly prog: LoadedProgram;
  readonly repeat: number;
  readonly #args: RunArgs;
  readonly #dataSize: number;
  readonly #count: number;
  readonly #timeoutUs: number;
  readonly #helpers: HelperRunState;
  readonly #counter: BlockCounter | undefined;
  readonly #blockHook: HookHandle | undefined;
  #r0 = 0n;
  #done = 0;
  #elapsed = 0n;
  #started = false;
  #pauseRequested = false;
  #closed = false;

  constructor(machine: Machine, prog: LoadedProgram, req: RunRequest) {
    const repeat = req.repeat ?? 1;
    if (!Number.isSafeInteger(repeat) || repeat < 1) throw new HarnessError('harness.bad-request', `repeat must be a positive integer, got ${repeat}`);
    if (machine.onRepetition !== undefined) throw new HarnessError('harness.bad-request', 'another test run of this machine is in progress');
    this.machine = machine;
    this.prog = prog;
    this.repeat = repeat;
    const k = machine.kernel;
    const uc = k.uc;
    const obs = machine.observer;
    if (req.raw !== undefined) {
      this.#args = rawContext(k, req.raw);
      this.#dataSize = req.raw.length;
    } else {
      const data = req.data ?? new Uint8Array(req.dataSize ?? 64);
      this.#args = testRunContext(k, prog.type, data);
      this.#dataSize = data.length;
    }
    this.#count = req.budget?.x86Insns ?? 0;
    this.#timeoutUs = req.budget?.wallUs ?? (this.#count > 0 ? 0 : DEFAULT_WALL_US);

    obs.beginRun(k.callRsp, req.events ?? false);
    this.#helpers = k.beginRun();
    const disagree = machine.pokeDisagreements();
    if (disagree.length) obs.fail('poke_states', disagree[0]);
    else if (prog.jit.pokes.length || machine.programs.size > 1) obs.pass('poke_states', 'every direct tail-call site in state B or C, as its slot says');

    if (req.trace) {
      const c = (this.#counter = new BlockCounter(uc));
      this.#blockHook = uc.hookBlock((a, n) => c.onBlock(a, n));
    }
    machine.onRepetition = () => {
      this.#r0 = uc.regRead(X86Reg.RAX);
      afterReturn(machine);
      this.#done++;
      obs.beginRepetition();
    };
    setRegisters(machine, prog, this.#args, repeat);
  }

  /** True once the run is over (returned, faulted, out of budget, or abandoned). */
  get finished(): boolean {
    return this.#closed;
  }

  /** Repetitions that have returned so far. */
  get repetitionsDone(): number {
    return this.#done;
  }

  /** For a hook (a watchpoint): stop the run before the next instruction and report a pause. */
  requestPause(): void {
    this.#pauseRequested = true;
    this.machine.kernel.uc.stop();
  }

  resume(options: ResumeOptions = {}): RunProgress {
    if (this.#closed) throw new HarnessError('harness.bad-request', `the test run of ${this.prog.name} is over`);
    const machine = this.machine;
    const k = machine.kernel;
    const uc = k.uc;
    const obs = machine.observer;
    const step = options.step ?? 0;
    if (!Number.isSafeInteger(step) || step < 0) throw new HarnessError('harness.bad-request', `step must be a non-negative integer, got ${step}`);
    const count = step > 0 ? step : this.#count;
    const pauseAt = options.pauseAt ? [...options.pauseAt] : [];
    const begin = this.#started ? uc.regRead(X86Reg.RIP) : k.entryStub;
    if (step !== 1 && pauseAt.includes(begin)) {
      // Step off the listed address first (an exit at rip would stop at once), then go on with it listed.
      const first = this.resume({ step: 1, pauseAt: pauseAt.filter((a) => a !== begin) });
      if (first.state === 'done' || first.why !== 'step') return first;
      return step > 1 ? this.resume({ step: step - 1, pauseAt }) : this.resume({ pauseAt });
    }
    this.#started = true;
    this.#pauseRequested = false;
    const helpers = this.#helpers;
    let error: RunError | null = null;
    try {
      let timedOut = false;
      const exits = pauseAt;
      if (exits.length || engineExits.has(uc)) setExits(uc, new Set([...exits, k.entryReturn]));
      machine.lastWriteFault = undefined;
      const t0 = process.hrtime.bigint();
      try {
        ({ timedOut } = uc.start(begin, k.entryReturn, { count, timeoutUs: this.#timeoutUs }));
      } finally {
        this.#elapsed += process.hrtime.bigint() - t0;
      }
      const rip = uc.regRead(X86Reg.RIP);
      if (helpers.stopped) {
        this.#r0 = helpers.stopped.r0; // the run ended inside a helper: frames are abandoned, no checks
        this.#done++;
      } else if (helpers.fault) {
        // The BPF instruction is the call whose return address is on the stack.
        const ret = k.mem.readU64(uc.regRead(X86Reg.RSP));
        error = stopError(machine, 'fault', `${helpers.fault.symbol}: ${helpers.fault.message}`, rip, ret - 1n);
      } else if (rip !== k.entryReturn && this.#pauseRequested) {
        return { state: 'paused', rip, why: 'request' };
      } else if (rip !== k.entryReturn && !timedOut && exits.includes(rip)) {
        return { state: 'paused', rip, why: 'address' };
      } else if (rip !== k.entryReturn && !timedOut && step > 0) {
        return { state: 'paused', rip, why: 'step' };
      } else if (rip !== k.entryReturn && !timedOut && count === 0) {
        error = stopError(machine, 'fault', `the run stopped at ${k.describe(rip)} without returning`, rip);
      } else if (rip !== k.entryReturn) {
        const why = timedOut ? `the wall-time budget of ${this.#timeoutUs} us` : `the budget of ${count} x86 instructions`;
        const at = this.repeat > 1 ? ` in repetition ${this.#done + 1} of ${this.repeat}` : '';
        error = stopError(machine, 'budget', `${this.prog.name} did not return within ${why}${at} (${obs.depth} BPF frames deep)`, rip);
      } else if (uc.regRead(X86Reg.RSP) !== k.entryRsp) {
        obs.fail('stack_balance', `the test run ended with rsp 0x${uc.regRead(X86Reg.RSP).toString(16)}, expected 0x${k.entryRsp.toString(16)}`);
      }
    } catch (e) {
      error = runError(machine, e);
    }
    return { state: 'done', result: this.#finish(error) };
  }

  /** Ends a paused run where it is, without the end-of-run checks (a debugger moving on). */
  abandon(): void {
    if (this.#closed) return;
    this.#close();
  }

  #close(): void {
    this.#closed = true;
    this.machine.onRepetition = undefined;
    if (this.#blockHook !== undefined) this.machine.kernel.uc.hookDel(this.#blockHook);
    this.machine.kernel.gracePeriod();
  }

  #finish(error: RunError | null): RunResult {
    const machine = this.machine;
    const k = machine.kernel;
    this.#close();
    const trace = machine.observer.finish(this.#counter ? this.#counter.total : null);
    if (error === null) {
      const failed = machine.observer.firstFailure();
      if (failed) error = stopError(machine, 'check', `check ${failed.check} failed: ${failed.detail}`, null);
    }
    const runs = Math.max(this.#done, 1);
    const r0 = this.#r0;
    const args = this.#args;
    return {
      prog: this.prog.name, repeat: this.repeat, data_size: this.#dataSize,
      retval: Number(r0 & 0xffffffffn), r0,
      duration_ns: Number(this.#elapsed / BigInt(runs)),
      printk: this.#helpers.printk,
      trace, error,
      ...(args.packet ? { packet: k.mem.read(args.packet.address, args.packet.length) } : {}),
    };
  }
}

/** The exit set each engine was last started with (a debugger's pauses); absent: only `until`. */
const engineExits = new WeakMap<Unicorn, ReadonlySet<bigint>>();

/**
 * Sets unicorn's exits. They are checked when code is translated, not when it runs, so the
 * blocks that hold an address whose status changed, or end just before it, are dropped.
 */
function setExits(uc: Unicorn, want: ReadonlySet<bigint>): void {
  const had = engineExits.get(uc);
  const changed = had ? [...want].filter((a) => !had.has(a)).concat([...had].filter((a) => !want.has(a))) : [...want];
  if (had && changed.length === 0) return;
  uc.ctlSetExits([...want]);
  for (const a of changed) {
    try {
      uc.ctlRemoveCache(a > 0n ? a - 1n : a, a + 1n);
    } catch {
      // unmapped: nothing was translated there
    }
  }
  engineExits.set(uc, want);
}

/** The entry stub's arguments (text.ts): rdi = ctx, rsi = insnsi, rdx = bpf_func, rcx = repeat. */
function setRegisters(machine: Machine, prog: LoadedProgram, args: RunArgs, repeat: number): void {
  const k = machine.kernel;
  const uc = k.uc;
  uc.regWrite(X86Reg.RSP, k.entryRsp);
  uc.regWrite(X86Reg.RDI, args.r1);
  uc.regWrite(X86Reg.RSI, args.r2 ?? k.insnsiOf(prog.object));
  uc.regWrite(X86Reg.RDX, prog.object.bpfFunc);
  uc.regWrite(X86Reg.RCX, BigInt(repeat));
  uc.regWrite(X86Reg.RAX, 0n);
  for (const [, reg, v] of SEEDED) uc.regWrite(reg, v);
}

/** The checks of each return to the entry stub: rsp where it was, callee-saved registers as seeded, no frames. */
function afterReturn(machine: Machine): void {
  const k = machine.kernel;
  const uc = k.uc;
  const obs = machine.observer;
  const rsp = uc.regRead(X86Reg.RSP);
  if (rsp !== k.callRsp) obs.fail('stack_balance', `the test run's call returned with rsp 0x${rsp.toString(16)}, expected 0x${k.callRsp.toString(16)}`);
  else if (obs.depth !== 0) obs.fail('stack_balance', `${obs.depth} BPF frames never returned through the return thunk`);
  else obs.pass('stack_balance', 'every function returned with rsp at its return address; the test run got its rsp back');
  const bad = SEEDED.filter(([, reg, v]) => uc.regRead(reg) !== v).map(([name, reg, v]) => `${name} 0x${uc.regRead(reg).toString(16)} (was 0x${v.toString(16)})`);
  if (bad.length) obs.fail('callee_saved', `changed across the run: ${bad.join(', ')}`);
  else obs.pass('callee_saved', 'rbx, rbp, r12-r15 as seeded');
}

function runError(machine: Machine, e: unknown): RunError {
  if (e instanceof RunStop) return stopError(machine, e.kind, e.message, e.address ?? machine.kernel.uc.regRead(X86Reg.RIP));
  if (e instanceof UnicornError) {
    const k = machine.kernel;
    const rip = k.uc.regRead(X86Reg.RIP);
    const f = e.fault;
    if (!f) return stopError(machine, 'fault', `${e.ucErrName} at ${k.describe(rip)}`, rip);
    const what = `${memTypeName(f.type).replace('UC_MEM_', '').toLowerCase().replace('_', ' ')} of ${f.size} bytes at 0x${f.address.toString(16)} (${k.describe(f.address)})`;
    let at = rip;
    let note = '';
    if (f.type === UcMemType.FETCH_UNMAPPED || f.type === UcMemType.FETCH_PROT) {
      at = f.address;
    } else if (f.type === UcMemType.READ_UNMAPPED || f.type === UcMemType.READ_PROT) {
      const hit = locateReadFault(k.uc, rip, f.address, (a, n) => readable(machine, a, n));
      at = hit.address;
      if (!hit.exact) note = ' (in the x86 block starting there)';
    } else if (f.type === UcMemType.WRITE_UNMAPPED || f.type === UcMemType.WRITE_PROT) {
      const w = machine.lastWriteFault;
      const value = w && w.address === f.address && w.size === f.size ? w.value : undefined;
      const hit = locateWriteFault(k.uc, rip, { address: f.address, value }, (a, n) => readable(machine, a, n));
      at = hit.address;
      if (!hit.exact) note = hit.address === rip ? ' (in the x86 block starting there)' : ' (the first of several stores of its x86 block that fit)';
    }
    return stopError(machine, 'fault', `${what}${note}`, at);
  }
  if (e instanceof TailjitError) return stopError(machine, 'fault', e.message, null);
  return stopError(machine, 'fault', `internal error while running: ${(e as Error).message ?? String(e)}`, null);
}

function readable(machine: Machine, a: bigint, n: number): Uint8Array | null {
  try {
    return machine.kernel.mem.read(a, n);
  } catch {
    return null;
  }
}

/** `code` (default `address`) is where the BPF instruction is looked up: a helper's caller. */
function stopError(machine: Machine, kind: RunErrorKind, message: string, address: bigint | null, code: bigint | null = address): RunError {
  const obs = machine.observer;
  const image = code === null ? undefined : obs.imageAt(code);
  let bpfInsn: number | null = null;
  let prog = obs.innermostProg();
  if (image && code !== null) {
    const s = bpfInsnAt(image.func, Number(code - image.func.address));
    bpfInsn = s === 'prologue' ? image.func.firstSlot : s ?? null;
    prog = image.func.index === 0 ? image.prog.name : image.func.name;
  }
  return {
    kind, message,
    x86_address: hexAddr(address),
    bpf_insn: bpfInsn,
    prog,
    call_chain: obs.callChain(),
    ...(address !== null ? { where: machine.kernel.describe(address) } : {}),
  };
}
