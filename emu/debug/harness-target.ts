// The debug target over the harness: one Machine with the input's object loaded, its runs
// driven as RunSessions (emu/harness/run.ts) that stop at unicorn exits (breakpoints, event
// sites, `until` addresses: checked before the instruction and before any hook, so the
// observer's and the helpers' hooks run exactly once however often the run stops), single x86
// steps (unicorn's `count`), and watchpoints (memory hooks).
//
// A watchpoint's hook cannot let the access finish and then stop: unicorn 2.0.1 abandons the
// instruction when a memory hook stops the run. So the hook pauses the run before the
// instruction, and the target steps it once more with the watchpoints muted; the stop is
// reported after the access, as gdb expects. Two instructions of the modeled kernel's own text
// carry harness hooks *and* touch the stack (the entry stub's `dec qword [rsp]` and the return
// thunk's `call`); running their hooks twice would corrupt the observer, so accesses by them
// never trigger a watchpoint.

import { TailjitError } from '../../src/errors.js';
import { getProfile, type Profile } from '../../src/profile/index.js';
import { Machine, type RunBudget, type RunProgress, type RunResult, type RunSession } from '../harness/index.js';
import { siteTarget } from '../kernel/poke.js';
import { UcHookType, UcMemType, X86Reg, type HookHandle } from '../unicorn/index.js';
import { CodeMap } from './code-map.js';
import { DebugError } from './errors.js';
import { RunPlan, inputObject, type DebugInput, type PlannedRun } from './plan.js';
import { X86_REGS, X86_REG_NAMES, type Registers, type X86RegName } from './registers.js';
import type {
  DebugTarget, EventKind, KernelEvent, ResumeRequest, RunInfo, StopEvent, TargetState, WatchKind,
} from './target.js';

export interface HarnessTargetOptions {
  /** Default linux-5.10. */
  readonly profile?: Profile;
  /**
   * Where each run first stops: `bpf_func`, the entry program's first x86 instruction (gdb), or
   * `first_insn`, its first BPF instruction after the prologue (`tailjit debug`).
   */
  readonly startAt?: 'bpf_func' | 'first_insn';
  /** Limits of each resume (default: the harness's 10 s of wall time). */
  readonly budget?: RunBudget;
}

/** An address the target stops at for a kernel event, and how it tells whether the event happened. */
interface EventSite {
  readonly kind: Exclude<EventKind, 'poke'>;
  /** The event, or null when the address was reached without it (an `out:` reached by a jump). */
  readonly check: () => KernelEvent | null;
  /** For a tail call: where it lands (the stop is reported there). */
  readonly landing?: () => bigint;
}

interface Watch {
  readonly kind: WatchKind;
  readonly address: bigint;
  readonly length: number;
  readonly hook: HookHandle;
}

const ARG_REGS = [X86Reg.RDI, X86Reg.RSI, X86Reg.RDX, X86Reg.RCX, X86Reg.R8];

export class HarnessTarget implements DebugTarget {
  readonly machine: Machine;
  readonly code: CodeMap;
  readonly #plan: RunPlan;
  readonly #startAt: 'bpf_func' | 'first_insn';
  readonly #budget: RunBudget | undefined;
  #session: RunSession | null = null;
  #state: TargetState = 'between';
  #lastStop: StopEvent = { kind: 'exited', retval: null };
  #run: RunInfo | null = null;
  #runs = 0;
  #lastRetval: number | null = null;
  readonly #breakpoints = new Map<bigint, number>();
  readonly #watches: Watch[] = [];
  #events = new Set<EventKind>();
  #eventSites = new Map<bigint, EventSite[]>();
  #muted = false;
  #watchHit: { watch: WatchKind; address: bigint; accessed: WatchKind } | null = null;
  /** Instructions whose harness hooks must not run twice (see the file comment). */
  readonly #noWatch: ReadonlySet<bigint>;

  /** Loads the input (every program verified and JIT-ed, as a scenario does) and stops before the first run. */
  static open(input: DebugInput, options: HarnessTargetOptions = {}): HarnessTarget {
    const machine = loadMachine(input, options.profile);
    try {
      return new HarnessTarget(machine, new RunPlan(machine, input), options);
    } catch (e) {
      machine.close();
      throw e;
    }
  }

  constructor(machine: Machine, plan: RunPlan, options: HarnessTargetOptions = {}) {
    this.machine = machine;
    this.#plan = plan;
    this.code = new CodeMap(machine);
    this.#startAt = options.startAt ?? 'bpf_func';
    this.#budget = options.budget;
    const k = machine.kernel;
    this.#noWatch = new Set([k.entryAfterCall, k.symbol('srso_alias_return_thunk')]);
    this.#lastStop = this.#advance();
  }

  get state(): TargetState {
    return this.#state;
  }

  get lastStop(): StopEvent {
    return this.#lastStop;
  }

  get run(): RunInfo | null {
    return this.#run;
  }

  /** The run in progress (for the kernel's view). */
  get session(): RunSession | null {
    return this.#session;
  }

  // --- registers and memory ------------------------------------------------------------------

  readRegisters(): Registers {
    const uc = this.machine.kernel.uc;
    const values = uc.regReadBatch(X86_REG_NAMES.map((n) => X86_REGS[n]));
    return Object.fromEntries(X86_REG_NAMES.map((n, i) => [n, values[i]])) as Record<X86RegName, bigint>;
  }

  readRegister(name: X86RegName): bigint {
    return this.machine.kernel.uc.regRead(X86_REGS[name]);
  }

  writeRegister(name: X86RegName, value: bigint): void {
    this.#requireStopped('write a register');
    this.machine.kernel.uc.regWrite(X86_REGS[name], BigInt.asUintN(64, value));
  }

  readMemory(address: bigint, length: number): Uint8Array {
    checkRange(address, length);
    try {
      return this.machine.kernel.mem.read(address, length);
    } catch {
      throw new DebugError('debug.memory', `cannot read ${length} bytes at 0x${address.toString(16)}: ${this.#unmapped(address, length)}`);
    }
  }

  writeMemory(address: bigint, bytes: Uint8Array): void {
    checkRange(address, bytes.length);
    try {
      this.machine.kernel.mem.writeText(address, bytes);
    } catch {
      throw new DebugError('debug.memory', `cannot write ${bytes.length} bytes at 0x${address.toString(16)}: ${this.#unmapped(address, bytes.length)}`);
    }
  }

  #unmapped(address: bigint, length: number): string {
    const mem = this.machine.kernel.mem;
    for (let i = 0n; i < BigInt(length); i += 1n) {
      const r = mem.regions.find(address + i);
      if (!r || r.kind === 'guard') return `0x${(address + i).toString(16)} is ${mem.describe(address + i)}`;
    }
    return mem.describe(address);
  }

  // --- breakpoints, watchpoints, events --------------------------------------------------------

  insertBreakpoint(address: bigint): void {
    this.#breakpoints.set(address, (this.#breakpoints.get(address) ?? 0) + 1);
  }

  removeBreakpoint(address: bigint): void {
    const n = this.#breakpoints.get(address) ?? 0;
    if (n <= 1) this.#breakpoints.delete(address);
    else this.#breakpoints.set(address, n - 1);
  }

  insertWatchpoint(kind: WatchKind, address: bigint, length: number): void {
    checkRange(address, length);
    if (length < 1) throw new DebugError('debug.usage', 'a watchpoint covers at least one byte');
    const uc = this.machine.kernel.uc;
    const kinds = kind === 'write' ? UcHookType.MEM_WRITE : kind === 'read' ? UcHookType.MEM_READ : UcHookType.MEM_READ | UcHookType.MEM_WRITE;
    // Accesses are hooked by their first byte: start 7 bytes early so an 8-byte access that
    // overlaps the range from below is seen, and check the overlap in the hook.
    const lo = address >= 7n ? address - 7n : 0n;
    const hook = uc.hookMemAccess((type, a, size) => this.#onAccess(kind, address, length, type === UcMemType.WRITE ? 'write' : 'read', a, size), kinds, lo, address + BigInt(length) - 1n);
    this.#watches.push({ kind, address, length, hook });
  }

  removeWatchpoint(kind: WatchKind, address: bigint, length: number): void {
    const i = this.#watches.findIndex((w) => w.kind === kind && w.address === address && w.length === length);
    if (i < 0) return;
    this.machine.kernel.uc.hookDel(this.#watches[i].hook);
    this.#watches.splice(i, 1);
  }

  catchEvents(kinds: Iterable<EventKind>): void {
    this.#events = new Set(kinds);
    this.#eventSites = this.#buildEventSites();
  }

  #onAccess(watch: WatchKind, address: bigint, length: number, accessed: 'read' | 'write', a: bigint, size: number): void {
    if (this.#muted || !this.#session || this.#watchHit) return;
    if (a + BigInt(size) <= address || a >= address + BigInt(length)) return;
    const rip = this.machine.kernel.uc.regRead(X86Reg.RIP);
    if (this.#noWatch.has(rip)) return;
    this.#watchHit = { watch, address, accessed };
    this.#session.requestPause();
  }

  // --- running -------------------------------------------------------------------------------

  stepInstruction(): StopEvent {
    if (this.#state === 'exited') return this.#lastStop;
    if (this.#state === 'between') return this.#record(this.#advance());
    const p = this.#resume({ step: 1 });
    if (p.state === 'done') return this.#record(this.#ended(p.result));
    if (p.why === 'request') return this.#record(this.#finishWatch());
    return this.#record({ kind: 'step', pc: p.rip });
  }

  resume(request: ResumeRequest = {}): StopEvent {
    if (this.#state === 'exited') return this.#lastStop;
    if (this.#state === 'between') return this.#record(this.#advance());
    return this.#record(this.#continue(request.until ?? []));
  }

  /** Ends the run in progress where it is (no end-of-run checks) and starts the next. */
  nextRun(): StopEvent {
    if (this.#session) {
      this.#session.abandon();
      this.#session = null;
      this.#state = 'between';
    }
    return this.resume();
  }

  close(): void {
    this.#session?.abandon();
    this.#session = null;
    this.machine.close();
  }

  #record(stop: StopEvent): StopEvent {
    this.#lastStop = stop;
    return stop;
  }

  #resume(options: { step?: number; pauseAt?: Iterable<bigint> }): RunProgress {
    const s = this.#session!;
    this.#watchHit = null;
    return s.resume(options);
  }

  #continue(until: readonly bigint[]): StopEvent {
    for (;;) {
      const stops = new Set<bigint>([...this.#breakpoints.keys(), ...this.#eventSites.keys(), ...until]);
      const p = this.#resume({ pauseAt: stops });
      if (p.state === 'done') return this.#ended(p.result);
      if (p.why === 'request') return this.#finishWatch();
      const pc = p.rip;
      if (until.includes(pc)) return { kind: 'until', pc };
      if (this.#breakpoints.has(pc)) return { kind: 'breakpoint', pc };
      const ev = this.#eventAt(pc);
      if (ev) return ev;
    }
  }

  /** An event at `pc` that did happen; a tail call is reported where it lands. */
  #eventAt(pc: bigint): StopEvent | null {
    for (const site of this.#eventSites.get(pc) ?? []) {
      const event = site.check();
      if (!event) continue;
      if (!site.landing) return { kind: 'event', pc, event };
      const landing = site.landing();
      const p = this.#resume({ pauseAt: [landing] });
      if (p.state === 'done') return this.#ended(p.result);
      if (p.why === 'request') return this.#finishWatch();
      return { kind: 'event', pc: p.rip, event };
    }
    return null;
  }

  #finishWatch(): StopEvent {
    const hit = this.#watchHit!;
    this.#muted = true;
    let p: RunProgress;
    try {
      p = this.#session!.resume({ step: 1 });
    } finally {
      this.#muted = false;
      this.#watchHit = null;
    }
    if (p.state === 'done') return this.#ended(p.result);
    return { kind: 'watchpoint', pc: p.rip, ...hit };
  }

  #ended(result: RunResult): StopEvent {
    this.#session = null;
    this.#state = 'between';
    if (!result.error || result.error.kind === 'check') this.#lastRetval = result.retval;
    return { kind: 'run-end', run: this.#run!, result };
  }

  /** Scenario steps up to the next run (stopped at its start), an event stop at a poke, or the end. */
  #advance(): StopEvent {
    for (;;) {
      const item = this.#plan.advance();
      switch (item.kind) {
        case 'end':
          this.#state = 'exited';
          return { kind: 'exited', retval: this.#lastRetval };
        case 'error':
          this.#state = 'exited';
          return { kind: 'exited', retval: this.#lastRetval, error: item.message };
        case 'poke':
          if (this.#events.has('poke')) {
            this.#state = 'between';
            return { kind: 'event', pc: null, event: item.event };
          }
          continue;
        case 'run':
          return this.#startRun(item.run);
      }
    }
  }

  #startRun(planned: PlannedRun): StopEvent {
    const m = this.machine;
    const prog = m.program(planned.prog);
    const main = prog.jit.funcs[0];
    const start = this.#startAt === 'bpf_func' ? main.address : main.address + BigInt(main.addrs[0]);
    let session: RunSession;
    try {
      session = m.startRun(planned.prog, { ...planned.request, ...(this.#budget ? { budget: this.#budget } : {}) });
    } catch (e) {
      if (!(e instanceof TailjitError)) throw e;
      this.#state = 'exited';
      return { kind: 'exited', retval: this.#lastRetval, error: `${planned.step !== null ? `step ${planned.step} (run): ` : ''}${e.message}` };
    }
    this.#session = session;
    this.#state = 'stopped';
    this.#run = { index: ++this.#runs, step: planned.step, prog: planned.prog, ...(planned.label !== undefined ? { label: planned.label } : {}) };
    const p = this.#resume({ pauseAt: [start, ...this.#breakpoints.keys()] });
    if (p.state === 'done') return this.#ended(p.result);
    if (p.why === 'request') return this.#finishWatch();
    if (p.rip === start) return { kind: 'start', pc: start, run: this.#run };
    return { kind: 'breakpoint', pc: p.rip };
  }

  #requireStopped(what: string): void {
    if (this.#state !== 'stopped') throw new DebugError('debug.state', `cannot ${what}: no run is in progress`);
  }

  // --- event sites ---------------------------------------------------------------------------

  #buildEventSites(): Map<bigint, EventSite[]> {
    const out = new Map<bigint, EventSite[]>();
    const add = (a: bigint, s: EventSite) => out.set(a, [...(out.get(a) ?? []), s]);
    const k = this.machine.kernel;
    const uc = k.uc;
    const nop5 = this.machine.profile.jit.cpu.nop5;
    const events = this.#events;
    const from = (site: { func: { index: number; name: string } }, prog: string) => (site.func.index === 0 ? prog : site.func.name);
    for (const prog of this.machine.programs.values()) {
      for (const site of prog.sites) {
        if (events.has('tailcall')) {
          const target = (): bigint => (site.kind === 'direct' ? siteTarget(k.mem.read(site.jump, 5), site.jump, nop5) ?? 0n : uc.regRead(X86Reg.RCX));
          add(site.jump, {
            kind: 'tailcall',
            landing: target,
            check: () => {
              const t = target();
              const to = this.code.imageAt(t)?.symbol ?? `0x${t.toString(16)}`;
              return { kind: 'tailcall', from: from(site, prog.name), insn: site.slot, to, target: t, via: site.kind };
            },
          });
        }
        if (events.has('tailcall-refused')) {
          add(site.out, {
            kind: 'tailcall-refused',
            check: () => {
              const top = this.machine.observer.frames().at(-1);
              if (!top?.pending || top.pending.slot !== site.slot) return null;
              return { kind: 'tailcall-refused', from: from(site, prog.name), insn: site.slot, reason: top.pending.reason };
            },
          });
        }
      }
    }
    for (const image of this.code.images) {
      if (events.has('call') && image.func.index > 0) {
        add(image.address, {
          kind: 'call',
          check: () => {
            const ret = k.mem.readU64(uc.regRead(X86Reg.RSP));
            return { kind: 'call', from: this.code.imageAt(ret)?.symbol ?? k.describe(ret), to: image.symbol };
          },
        });
      }
      if (events.has('return') && image.returnOffset !== null) {
        add(image.address + BigInt(image.returnOffset), {
          kind: 'return',
          check: () => ({ kind: 'return', from: image.symbol, r0: uc.regRead(X86Reg.RAX) }),
        });
      }
    }
    if (events.has('helper')) {
      for (const s of this.code.kernelSymbols) {
        if (s.kind !== 'helper') continue;
        const f = k.functionAt(s.address)!;
        add(s.address, {
          kind: 'helper',
          check: () => ({ kind: 'helper', name: s.name, args: ARG_REGS.slice(0, f.args).map((r) => uc.regRead(r)) }),
        });
      }
    }
    return out;
  }
}

/**
 * The machine a session debugs: the input's object loaded as a scenario loads it. Deterministic
 * (the default seed places the images), so `tailjit symbols` and the gdbserver agree on addresses.
 */
export function loadMachine(input: DebugInput, profile: Profile = getProfile('linux-5.10')): Machine {
  const machine = new Machine({ profile });
  try {
    machine.loadObject(inputObject(input));
    return machine;
  } catch (e) {
    machine.close();
    throw e;
  }
}

function checkRange(address: bigint, length: number): void {
  if (!Number.isSafeInteger(length) || length < 0 || length > 1 << 20) throw new DebugError('debug.usage', `bad length ${length}`);
  if (address < 0n || address + BigInt(length) > 1n << 64n) throw new DebugError('debug.usage', `address 0x${address.toString(16)} is outside the address space`);
}
