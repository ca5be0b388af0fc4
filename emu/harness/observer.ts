// What the harness sees while JIT-ed code runs, without changing what runs: code hooks on a
// few addresses only — each function's first byte (bpf2bpf calls and the test run's call), the
// return thunk (every return), and per tail-call site its counter compare, its jump and its
// `out:` — so a hot loop in a program costs nothing extra. From these it keeps a model of the
// native frames (the counter copy of each, tailcalls.md §1.5, §3.2; or the run's one shared
// counter, §9.2), the tail-call chains, the stack high-water mark, and the verdicts of the checks.

import { X86Reg, type Unicorn } from '../unicorn/index.js';
import type { JitFunc } from '../../src/jit/types.js';
import type { Profile } from '../../src/profile/index.js';
import type { Kernel } from '../kernel/kernel.js';
import { siteState, siteTarget } from '../kernel/poke.js';
import { RunStop } from './errors.js';
import type { LoadedProgram, TailCallSite } from './program.js';

export type CheckName =
  | 'tail_call_limit' | 'tail_call_counter' | 'stack_balance' | 'callee_saved' | 'stack_depth' | 'poke_states';

export interface Check {
  readonly check: CheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export interface RunTrace {
  tail_calls: number;
  tail_calls_refused: number;
  /** Why refused tail calls fell through. */
  refused: { limit: number; empty_slot: number; out_of_bounds: number };
  max_tail_calls_in_chain: number;
  bpf2bpf_calls: number;
  /** Most native BPF frames at once (bpf2bpf calls nest; tail calls replace a frame). */
  max_call_depth: number;
  /** Most bytes of the kernel stack below the test run's rsp, by the frames' prologues. */
  max_stack_bytes: number;
  /** x86 instructions executed (with --trace), else null. */
  x86_insns: number | null;
  /** The counter as each tail-call check read it, in order (the first MAX_COUNTER_VALUES). */
  counter_values: number[];
  /** With `events`: calls, tail calls and returns as they happened (the first MAX_EVENTS). */
  events?: TraceEvent[];
  checks: Check[];
}

/** One frame change: `rsp` at the function's first byte (call), at the jump (tail call), at the return thunk. */
export interface TraceEvent {
  readonly kind: 'call' | 'tail_call' | 'return';
  /** The function entered, tail-called or returned from. */
  readonly name: string;
  readonly rsp: string;
  /** BPF frames after the event. */
  readonly depth: number;
}

/** A native BPF frame as the observer models it, for a debugger's backtrace (innermost last). */
export interface ObservedFrame {
  readonly prog: LoadedProgram | undefined;
  readonly func: JitFunc | undefined;
  /** rsp at the function's first byte: where its return address is. */
  readonly retSlot: bigint;
  /** The modeled counter of the frame's slot (null when nothing defined it). */
  readonly counter: number | null;
  /** Tail calls taken on this call path. */
  readonly chain: number;
  /** The function entered, then each tail-call target that replaced it, in order. */
  readonly names: readonly string[];
  /** A tail call whose counter check ran and whose outcome is not known yet. */
  readonly pending: { readonly slot: number; readonly reason: 'limit' | 'empty_slot' | 'out_of_bounds' } | null;
}

const MAX_COUNTER_VALUES = 1024;
const MAX_EVENTS = 10_000;
const MAX_CHAIN_NAMES = 64;

interface Frame {
  prog: LoadedProgram | undefined;
  func: JitFunc | undefined;
  /** rsp at the function's first byte: where its return address is. */
  readonly retSlot: bigint;
  /** rbp after its prologue (retSlot - 8; a tail-call target reuses it). */
  readonly rbp: bigint;
  /** The modeled counter of this frame's slot (null when nothing defined it). */
  counter: number | null;
  /** Tail calls taken on this call path (by value through calls, like the counter). */
  chain: number;
  names: string[];
  /** Index of the frame where this program activation starts (a main function's frame). */
  activation: number;
  /** round_up(max(stack_depth, 1), 32), as check_max_stack_depth counts the frame. */
  frameBytes: number;
  /** A tail call whose check ran and whose outcome is pending. */
  pending: { site: TailCallSite; reason: 'limit' | 'empty_slot' | 'out_of_bounds' } | null;
}

interface CheckState {
  failures: number;
  first?: string;
  detail?: string;
}

export class Observer {
  readonly #uc: Unicorn;
  readonly #kernel: Kernel;
  readonly #profile: Profile;
  readonly #byBpfFunc = new Map<bigint, LoadedProgram>();
  #frames: Frame[] = [];
  #trace: RunTrace = emptyTrace();
  #checks = new Map<CheckName, CheckState>();
  #entryRsp = 0n;
  readonly #programs: LoadedProgram[] = [];
  /**
   * `tailCall.counter: 'shared'`: the one counter of the current repetition (each repetition
   * enters the main function at offset 0, which starts a fresh one), counting taken tail calls.
   */
  #shared = 0;

  /** Whether check_max_stack_depth()'s rules apply (not to programs that skipped the verifier). */
  readonly #stackRulesApply: boolean;

  constructor(kernel: Kernel, options: { stackRules?: boolean } = {}) {
    this.#stackRulesApply = options.stackRules ?? true;
    this.#kernel = kernel;
    this.#uc = kernel.uc;
    this.#profile = kernel.profile;
    const thunk = kernel.symbol('srso_alias_return_thunk');
    this.#uc.hookCode(() => this.#onReturn(), thunk, thunk);
  }

  /** Adds the hooks of a freshly loaded program. */
  watch(prog: LoadedProgram): void {
    this.#programs.push(prog);
    this.#byBpfFunc.set(prog.object.bpfFunc, prog);
    for (const f of prog.jit.funcs) this.#uc.hookCode(() => this.#onEntry(prog, f), f.address, f.address);
    for (const site of prog.sites) {
      if (site.kind === 'indirect') this.#uc.hookCode(() => this.#onAttempt(site), site.start, site.start);
      this.#uc.hookCode(() => this.#onCheck(site), site.compare, site.compare);
      this.#uc.hookCode(() => this.#onJump(site), site.jump, site.jump);
      this.#uc.hookCode(() => this.#onOut(site), site.out, site.out);
    }
  }

  get programs(): readonly LoadedProgram[] {
    return this.#programs;
  }

  /** Starts a test run (all its repetitions share one trace). */
  beginRun(entryRsp: bigint, events = false): void {
    this.#entryRsp = entryRsp;
    this.#trace = emptyTrace();
    if (events) this.#trace.events = [];
    this.#checks = new Map();
    this.#frames = [];
    this.#shared = 0;
  }

  /** Before each repetition: no frames, a fresh shared counter. */
  beginRepetition(): void {
    this.#frames = [];
    this.#shared = 0;
  }

  get #isShared(): boolean {
    return this.#profile.tailCall.counter === 'shared';
  }

  get depth(): number {
    return this.#frames.length;
  }

  /** Functions and tail-call targets on the current path, outermost first. */
  callChain(): string[] {
    const names = this.#frames.flatMap((f) => f.names);
    return names.length > MAX_CHAIN_NAMES ? [...names.slice(0, 8), `... ${names.length - 16} more ...`, ...names.slice(-8)] : names;
  }

  /** The modeled frames, outermost first (copies). */
  frames(): ObservedFrame[] {
    return this.#frames.map((f) => ({
      prog: f.prog, func: f.func, retSlot: f.retSlot, counter: this.#counterOf(f), chain: f.chain, names: [...f.names],
      pending: f.pending ? { slot: f.pending.site.slot, reason: f.pending.reason } : null,
    }));
  }

  /** A frame's modeled counter: its own copy (by value), or the run's (shared) in a frame that holds the pointer. */
  #counterOf(f: Frame): number | null {
    if (!this.#isShared) return f.counter;
    return f.func?.tailCallReachable ? this.#shared : null;
  }

  innermostProg(): string | null {
    const f = this.#frames.at(-1);
    return f?.func ? funcName(f.prog, f.func) : null;
  }

  /** The program whose image holds `addr`, with the function. */
  imageAt(addr: bigint): { prog: LoadedProgram; func: JitFunc } | undefined {
    for (const prog of this.#programs) {
      for (const func of prog.jit.funcs) {
        if (addr >= func.address && addr < func.address + BigInt(func.image.length)) return { prog, func };
      }
    }
    return undefined;
  }

  /** Records a verdict; the first failure's text is kept. */
  fail(check: CheckName, text: string): void {
    const c = this.#checks.get(check) ?? { failures: 0 };
    c.failures++;
    c.first ??= text;
    this.#checks.set(check, c);
  }

  pass(check: CheckName, detail: string): void {
    const c = this.#checks.get(check) ?? { failures: 0 };
    c.detail = detail;
    this.#checks.set(check, c);
  }

  /** Called when the test run is over: every check with its verdict. */
  finish(x86Insns: number | null): RunTrace {
    const t = this.#trace;
    const limit = this.#profile.tailCall.limit;
    if (!this.#checks.get('tail_call_limit')?.failures) this.pass('tail_call_limit', `at most ${t.max_tail_calls_in_chain} tail calls in one chain (limit ${limit})`);
    if (!this.#checks.get('tail_call_counter')?.failures) {
      const counted = this.#isShared ? 'the tail calls taken in the run so far' : 'the tail calls counted on its call path';
      this.pass('tail_call_counter', `${t.counter_values.length} counter reads, each equal to ${counted}`);
    }
    if (this.#stackRulesApply && !this.#checks.get('stack_depth')?.failures) {
      this.pass('stack_depth', `every program's frames within ${this.#profile.verifier.maxStack} bytes, callers of tail-calling subprograms below ${this.#profile.verifier.tailCallCallerStackLimit}`);
    }
    const order: CheckName[] = ['tail_call_limit', 'tail_call_counter', 'stack_balance', 'callee_saved', 'stack_depth', 'poke_states'];
    t.checks = order.filter((n) => this.#checks.has(n)).map((n) => {
      const c = this.#checks.get(n)!;
      return c.failures > 0
        ? { check: n, ok: false, detail: c.failures > 1 ? `${c.first} (and ${c.failures - 1} more)` : c.first! }
        : { check: n, ok: true, detail: c.detail ?? '' };
    });
    t.x86_insns = x86Insns;
    return t;
  }

  /** The first failed check, if any. */
  firstFailure(): Check | undefined {
    for (const [check, c] of this.#checks) if (c.failures > 0) return { check, ok: false, detail: c.first! };
    return undefined;
  }

  // --- hooks ---------------------------------------------------------------------------------

  #onEntry(prog: LoadedProgram, func: JitFunc): void {
    const rsp = this.#uc.regRead(X86Reg.RSP);
    const top = this.#frames.at(-1);
    if (top) this.#trace.bpf2bpf_calls++;
    const frame: Frame = {
      prog, func, retSlot: rsp, rbp: rsp - 8n,
      // The test run enters with `xor eax, eax`; a call passes the caller's slot if it is R (§3.2).
      counter: top ? (top.func?.tailCallReachable ? top.counter : null) : func.tailCallReachable ? 0 : null,
      chain: top ? top.chain : 0,
      names: [funcName(prog, func)],
      activation: top ? top.activation : 0,
      frameBytes: this.#frameBytes(func),
      pending: null,
    };
    this.#frames.push(frame);
    this.#event('call', frame.names[0], rsp);
    this.#trace.max_call_depth = Math.max(this.#trace.max_call_depth, this.#frames.length);
    this.#highWater(frame, func);
    this.#stackRules(this.#frames.length - 1);
  }

  #onReturn(): void {
    const rsp = this.#uc.regRead(X86Reg.RSP);
    const top = this.#frames.pop();
    if (!top) {
      this.fail('stack_balance', `a return through the return thunk with no BPF frame (rsp 0x${rsp.toString(16)})`);
      return;
    }
    this.#event('return', top.names[top.names.length - 1], rsp);
    if (rsp !== top.retSlot) {
      const name = top.func ? funcName(top.prog, top.func) : '?';
      this.fail('stack_balance', `${name} returned with rsp 0x${rsp.toString(16)}, its return address is at 0x${top.retSlot.toString(16)}`);
    }
  }

  #onAttempt(site: TailCallSite): void {
    const top = this.#frames.at(-1);
    if (!top) return;
    // Back-to-back tail calls: the first one's `out:` is this one's start, whichever hook runs first.
    if (top.pending && top.pending.site !== site && top.pending.site.out === site.start) this.#onOut(top.pending.site);
    top.pending = { site, reason: 'out_of_bounds' };
  }

  #onCheck(site: TailCallSite): void {
    const top = this.#frames.at(-1);
    if (!top) return;
    const value = this.#readCounter();
    if (this.#trace.counter_values.length < MAX_COUNTER_VALUES) this.#trace.counter_values.push(value);
    const modeled = this.#counterOf(top);
    if (modeled !== null && modeled !== value) {
      const where = this.#isShared ? 'were taken in this run' : 'were counted on this path';
      this.fail('tail_call_counter', `the counter at insn ${site.slot} of ${top.prog?.name ?? '?'} is ${value}, ${modeled} tail calls ${where}`);
    }
    const max = this.#profile.jit.maxTailCallCnt;
    // tcc-ptr compares with jae (tailcalls.md §9.2); the slot form with the profile's jcc.
    const refused = this.#profile.jit.tailCallCounter === 'tcc-ptr' || this.#profile.jit.tailCallCntJcc === 'jae' ? value >= max : value > max;
    top.pending = { site, reason: refused ? 'limit' : 'empty_slot' };
    // By value, the count goes up before the slot is read (an empty slot counts, §8.3).
    if (!refused && !this.#isShared) top.counter = value + 1;
  }

  /** The counter at a compare: eax (slot), or the qword rax points at (tcc-ptr). */
  #readCounter(): number {
    const rax = this.#uc.regRead(X86Reg.RAX);
    if (this.#profile.jit.tailCallCounter === 'slot') return Number(rax & 0xffffffffn);
    return Number(this.#kernel.mem.readU64(rax));
  }

  #onJump(site: TailCallSite): void {
    const top = this.#frames.at(-1);
    if (!top) return;
    if (this.#isShared) this.#shared++; // counted only now that the slot is known to hold a program
    const target = site.kind === 'direct' ? this.#directTarget(site) : this.#uc.regRead(X86Reg.RCX);
    const prog = this.#byBpfFunc.get(target - BigInt(this.#profile.jit.tailCallOffset));
    const func = prog?.jit.funcs[0];
    // The unwind popped everything below rbp: the target reuses the frame base (§1.4).
    const rsp = this.#uc.regRead(X86Reg.RSP);
    if (rsp !== top.rbp) {
      this.fail('stack_balance', `the tail call at insn ${site.slot} jumps with rsp 0x${rsp.toString(16)}, the frame base is 0x${top.rbp.toString(16)}`);
    }
    top.pending = null;
    top.prog = prog;
    top.func = func;
    if (top.names.length < MAX_CHAIN_NAMES) top.names.push(prog?.name ?? `0x${target.toString(16)}`);
    top.chain++;
    top.activation = this.#frames.length - 1;
    this.#event('tail_call', prog?.name ?? `0x${target.toString(16)}`, rsp);
    const t = this.#trace;
    t.tail_calls++;
    t.max_tail_calls_in_chain = Math.max(t.max_tail_calls_in_chain, top.chain);
    const limit = this.#profile.tailCall.limit;
    if (top.chain > limit) this.fail('tail_call_limit', `tail call ${top.chain} in one chain (limit ${limit}), into ${prog?.name ?? '?'}`);
    if (this.#isShared && this.#shared > limit) this.fail('tail_call_limit', `tail call ${this.#shared} in one run (limit ${limit}, one counter per run), into ${prog?.name ?? '?'}`);
    if (!func) return; // an unknown target faults or misbehaves on its own
    top.frameBytes = this.#frameBytes(func);
    this.#highWater(top, func);
    this.#stackRules(this.#frames.length - 1);
  }

  /** Site 2 of a direct tail call being executed: a jmp (state B), never a nop5 (state A). */
  #directTarget(site: TailCallSite): bigint {
    const nop5 = this.#profile.jit.cpu.nop5;
    const target = siteTarget(this.#kernel.mem.read(site.jump, 5), site.jump, nop5);
    if (typeof target !== 'bigint') {
      const state = site.poke ? siteState(this.#kernel.mem, site.poke, nop5) : 'invalid';
      this.fail('poke_states', `site 2 of the tail call at insn ${site.slot} was reached in state ${state}: the frame is unwound and the program falls through`);
      throw new RunStop('check', `the direct tail call at insn ${site.slot} ran in the forbidden state ${state} (site 1 and site 2 nop5)`, site.jump);
    }
    return target;
  }

  #onOut(site: TailCallSite): void {
    const top = this.#frames.at(-1);
    if (!top || top.pending?.site !== site) return; // `out:` is also an ordinary jump target
    this.#trace.tail_calls_refused++;
    this.#trace.refused[top.pending.reason]++;
    top.pending = null;
  }

  // --- frames --------------------------------------------------------------------------------

  #event(kind: TraceEvent['kind'], name: string, rsp: bigint): void {
    const ev = this.#trace.events;
    if (ev && ev.length < MAX_EVENTS) ev.push({ kind, name, rsp: `0x${rsp.toString(16)}`, depth: this.#frames.length });
  }

  #frameBytes(func: JitFunc): number {
    const r = this.#profile.verifier.frameRounding;
    return Math.ceil(Math.max(func.stackDepth, 1) / r) * r;
  }

  /** The lowest byte `func`'s prologue reserves below `frame.rbp` (tailcalls.md §1.5). */
  #highWater(frame: Frame, func: JitFunc): void {
    const sdr = BigInt((func.stackDepth + 7) & ~7);
    const slots = func.tailCallReachable ? (this.#profile.jit.tailCallCounter === 'slot' ? 1 : 2) : 0;
    const pushes = BigInt(8 * (func.calleeRegsUsed.filter(Boolean).length + slots));
    const low = frame.rbp - sdr - pushes;
    const bytes = Number(this.#entryRsp - low);
    this.#trace.max_stack_bytes = Math.max(this.#trace.max_stack_bytes, bytes);
  }

  /** check_max_stack_depth()'s rules over the program activation the frame at `i` is in (§7.4). */
  #stackRules(i: number): void {
    if (!this.#stackRulesApply) return;
    const frames = this.#frames;
    const a = frames[i].activation;
    let sum = 0;
    for (let k = a; k <= i; k++) sum += frames[k].frameBytes;
    const rules = this.#profile.verifier;
    const name = frames[i].func ? funcName(frames[i].prog, frames[i].func!) : '?';
    if (sum > rules.maxStack) this.fail('stack_depth', `${i - a + 1} frames of ${frames[a].prog?.name ?? '?'} use ${sum} bytes of BPF stack (limit ${rules.maxStack}) at ${name}`);
    const func = frames[i].func;
    const vf = func ? frames[i].prog?.verified.funcs[func.index] : undefined;
    if (func && func.index !== 0 && vf?.hasTailCall) {
      const callers = sum - frames[i].frameBytes;
      if (callers >= rules.tailCallCallerStackLimit) {
        this.fail('stack_depth', `tail-calling subprogram ${name} entered with ${callers} bytes of caller stack (limit ${rules.tailCallCallerStackLimit})`);
      }
    }
  }
}

export function funcName(prog: LoadedProgram | undefined, func: JitFunc): string {
  return func.index === 0 ? prog?.name ?? func.name : func.name;
}

function emptyTrace(): RunTrace {
  return {
    tail_calls: 0, tail_calls_refused: 0, refused: { limit: 0, empty_slot: 0, out_of_bounds: 0 },
    max_tail_calls_in_chain: 0, bpf2bpf_calls: 0, max_call_depth: 0, max_stack_bytes: 0, x86_insns: null,
    counter_values: [], checks: [],
  };
}
