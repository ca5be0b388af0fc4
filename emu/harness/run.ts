// One BPF_PROG_TEST_RUN on the modeled kernel: the context built for the program's type, then
// the entry stub (kernel text, text.ts) started once with unicorn: it calls bpf_func through
// __x86_indirect_thunk_rdx `repeat` times with rdi = ctx and rsi = insnsi, as bpf_test_run()'s
// loop does. A code hook where each call returns checks rsp and the callee-saved registers the
// harness seeded; retval is eax of the last repetition, r0 the whole rax.
// Faults, traps, exhausted budgets and failed checks end the run with a structured error.

import { TailjitError } from '../../src/errors.js';
import { bpfInsnAt } from '../../src/jit/index.js';
import { UcMemType, UnicornError, X86Reg, memTypeName, type HookHandle } from '../unicorn/index.js';
import { rawContext, testRunContext, type RunArgs } from '../kernel/ctx.js';
import { HarnessError, hexAddr, RunStop, type RunError, type RunErrorKind } from './errors.js';
import type { Machine } from './machine.js';
import type { RunTrace } from './observer.js';
import type { LoadedProgram } from './program.js';
import { BlockCounter, locateReadFault } from './x86.js';

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
  const repeat = req.repeat ?? 1;
  if (!Number.isSafeInteger(repeat) || repeat < 1) throw new HarnessError('harness.bad-request', `repeat must be a positive integer, got ${repeat}`);
  const k = machine.kernel;
  const uc = k.uc;
  const obs = machine.observer;
  let args: RunArgs;
  let dataSize: number;
  if (req.raw !== undefined) {
    args = rawContext(k, req.raw);
    dataSize = req.raw.length;
  } else {
    const data = req.data ?? new Uint8Array(req.dataSize ?? 64);
    args = testRunContext(k, prog.type, data);
    dataSize = data.length;
  }
  const count = req.budget?.x86Insns ?? 0;
  const timeoutUs = req.budget?.wallUs ?? (count > 0 ? 0 : DEFAULT_WALL_US);

  obs.beginRun(k.callRsp, req.events ?? false);
  const helpers = k.beginRun();
  const disagree = machine.pokeDisagreements();
  if (disagree.length) obs.fail('poke_states', disagree[0]);
  else if (prog.jit.pokes.length || machine.programs.size > 1) obs.pass('poke_states', 'every direct tail-call site in state B or C, as its slot says');

  let counter: BlockCounter | undefined;
  let blockHook: HookHandle | undefined;
  if (req.trace) {
    counter = new BlockCounter(uc);
    const c = counter;
    blockHook = uc.hookBlock((a, n) => c.onBlock(a, n));
  }

  let error: RunError | null = null;
  let r0 = 0n;
  let done = 0;
  machine.onRepetition = () => {
    r0 = uc.regRead(X86Reg.RAX);
    afterReturn(machine);
    done++;
    obs.beginRepetition();
  };
  setRegisters(machine, prog, args, repeat);
  const t0 = process.hrtime.bigint();
  let elapsed = 0n;
  try {
    let timedOut = false;
    try {
      ({ timedOut } = uc.start(k.entryStub, k.entryReturn, { count, timeoutUs }));
    } finally {
      elapsed = process.hrtime.bigint() - t0;
    }
    const rip = uc.regRead(X86Reg.RIP);
    if (helpers.stopped) {
      r0 = helpers.stopped.r0; // the run ended inside a helper: frames are abandoned, no checks
      done++;
    } else if (helpers.fault) {
      // The BPF instruction is the call whose return address is on the stack.
      const ret = k.mem.readU64(uc.regRead(X86Reg.RSP));
      error = stopError(machine, 'fault', `${helpers.fault.symbol}: ${helpers.fault.message}`, rip, ret - 1n);
    } else if (rip !== k.entryReturn && !timedOut && count === 0) {
      error = stopError(machine, 'fault', `the run stopped at ${k.describe(rip)} without returning`, rip);
    } else if (rip !== k.entryReturn) {
      const why = timedOut ? `the wall-time budget of ${timeoutUs} us` : `the budget of ${count} x86 instructions`;
      const at = repeat > 1 ? ` in repetition ${done + 1} of ${repeat}` : '';
      error = stopError(machine, 'budget', `${prog.name} did not return within ${why}${at} (${obs.depth} BPF frames deep)`, rip);
    } else if (uc.regRead(X86Reg.RSP) !== k.entryRsp) {
      obs.fail('stack_balance', `the test run ended with rsp 0x${uc.regRead(X86Reg.RSP).toString(16)}, expected 0x${k.entryRsp.toString(16)}`);
    }
  } catch (e) {
    error = runError(machine, e);
  } finally {
    machine.onRepetition = undefined;
    if (blockHook !== undefined) uc.hookDel(blockHook);
    k.gracePeriod();
  }
  const trace = obs.finish(counter ? counter.total : null);
  if (error === null) {
    const failed = obs.firstFailure();
    if (failed) error = stopError(machine, 'check', `check ${failed.check} failed: ${failed.detail}`, null);
  }
  const runs = Math.max(done, 1);
  return {
    prog: prog.name, repeat, data_size: dataSize,
    retval: Number(r0 & 0xffffffffn), r0,
    duration_ns: Number(elapsed / BigInt(runs)),
    printk: helpers.printk,
    trace, error,
    ...(args.packet ? { packet: k.mem.read(args.packet.address, args.packet.length) } : {}),
  };
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
