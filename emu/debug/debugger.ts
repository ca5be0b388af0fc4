// `tailjit debug`'s command language over a target: stepping by BPF instruction (`step`,
// `next`, `finish`) and by x86 instruction (`stepi`, `nexti`), `continue`, `run`, breakpoints
// on code (prog:insn, symbol+off, addresses, function names, source lines) and on kernel events
// (tail calls, refused tail calls, bpf2bpf calls, returns, helper calls, text pokes), with
// conditions; backtraces, registers, memory, the tail call counter, maps, slots and globals;
// listings of the BPF instruction with its x86 code and source line. One command in, a few
// DebugOutput objects out; the CLI decides how they are shown.

import { TailjitError } from '../../src/errors.js';
import { ProgArrayMap } from '../kernel/maps.js';
import type { CodeLocation } from './code-map.js';
import { DebugError } from './errors.js';
import { evaluate, parseExpr, type Expr, type ExprContext } from './expr.js';
import type { HarnessTarget } from './harness-target.js';
import { frameJson, hex, listingJson, type DebugOutput, type StopOutput } from './output.js';
import { BPF_REGS, X86_REG_NAMES, registerByName } from './registers.js';
import { EVENT_KINDS, type EventKind, type KernelEvent, type StopEvent, type WatchKind } from './target.js';
import { KernelView } from './view.js';

type Emit = (o: DebugOutput) => void;

interface Breakpoint {
  readonly id: number;
  readonly what: string;
  readonly addresses: readonly bigint[];
  readonly event?: EventKind;
  readonly watch?: { readonly kind: WatchKind; readonly address: bigint; readonly length: number };
  readonly condition?: { readonly text: string; readonly expr: Expr };
  hits: number;
}

interface Command {
  readonly names: readonly string[];
  readonly usage: string;
  readonly help: string;
  readonly run: (args: string, word: string) => void;
}

/** x86 instructions one `step` may take before it gives up (a loop without a BPF instruction boundary). */
const MAX_STEP_INSNS = 100_000;
/** Breakpoint hits whose condition is false that one `continue` passes before it stops anyway. */
const MAX_SKIPPED_HITS = 100_000;

export class Debugger {
  readonly target: HarnessTarget;
  readonly view: KernelView;
  readonly #emit: Emit;
  readonly #breakpoints: Breakpoint[] = [];
  #nextId = 1;
  #quit = false;
  readonly #commands: readonly Command[];

  constructor(target: HarnessTarget, emit: Emit) {
    this.target = target;
    this.view = new KernelView(target);
    this.#emit = emit;
    this.#commands = this.#table();
  }

  /** Reports where the target stopped when the session began. */
  start(): void {
    this.#report(this.target.lastStop, []);
  }

  get finished(): boolean {
    return this.#quit;
  }

  /** Command names and event kinds, for completion. */
  completions(): string[] {
    return [
      ...this.#commands.flatMap((c) => c.names),
      ...EVENT_KINDS, 'registers', 'breakpoints', 'slots', 'maps', 'globals', 'tcc',
      ...this.view.code.images.map((i) => i.symbol),
    ];
  }

  /** Runs one command line; false once the session should end. */
  execute(line: string): boolean {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) return !this.#quit;
    const [word, ...rest] = splitWord(text);
    const args = rest.join(' ').trim();
    const cmd = this.#find(word);
    try {
      if (!cmd) throw new DebugError('debug.usage', `unknown command '${word}' (try 'help')`);
      cmd.run(args, word);
    } catch (e) {
      if (!(e instanceof TailjitError)) throw e;
      this.#emit({ type: 'error', code: e.code, message: e.message });
    }
    return !this.#quit;
  }

  #find(word: string): Command | undefined {
    // gdb's `x/4x` glues the format to the command.
    const w = word.includes('/') ? word.slice(0, word.indexOf('/')) : word;
    return this.#commands.find((c) => c.names.includes(w));
  }

  // --- the command table -----------------------------------------------------------------------

  #table(): Command[] {
    const count = (a: string): number => {
      if (a === '') return 1;
      const n = Number(a);
      if (!Number.isSafeInteger(n) || n < 1) throw new DebugError('debug.usage', `expected a positive count, got '${a}'`);
      return n;
    };
    return [
      { names: ['step', 's'], usage: 'step [N]', help: 'run to the next BPF instruction, into calls and tail calls', run: (a) => this.#repeat(count(a), () => this.#stepBpf(false)) },
      { names: ['next', 'n'], usage: 'next [N]', help: 'run to the next BPF instruction of this frame, over bpf2bpf calls (a tail call replaces the frame: it lands at the target)', run: (a) => this.#repeat(count(a), () => this.#stepBpf(true)) },
      { names: ['finish', 'fin'], usage: 'finish', help: 'run until the current function returns', run: () => this.#finish() },
      { names: ['stepi', 'si'], usage: 'stepi [N]', help: 'one x86 instruction', run: (a) => this.#repeat(count(a), () => this.#stepi()) },
      { names: ['nexti', 'ni'], usage: 'nexti [N]', help: 'one x86 instruction, over calls', run: (a) => this.#repeat(count(a), () => this.#nexti()) },
      { names: ['continue', 'c', 'cont'], usage: 'continue [N]', help: 'run to the next breakpoint or event (N times)', run: (a) => this.#repeat(count(a), () => this.#continue()) },
      { names: ['run', 'r'], usage: 'run', help: "the scenario's next run (the run in progress is abandoned)", run: () => this.#report(this.target.nextRun(), []) },
      { names: ['break', 'b', 'br'], usage: 'break [LOCATION|EVENT] [if COND]', help: 'LOCATION: prog:insn, symbol+0xOFF, *ADDR, FUNCTION, file.c:LINE; EVENT: tailcall, tailcall-refused, call, return, helper, poke', run: (a) => this.#break(a) },
      { names: ['watch'], usage: 'watch ADDR [LEN]', help: 'stop after a write to LEN bytes at ADDR (default 8)', run: (a) => this.#watch('write', a) },
      { names: ['rwatch'], usage: 'rwatch ADDR [LEN]', help: 'stop after a read', run: (a) => this.#watch('read', a) },
      { names: ['awatch'], usage: 'awatch ADDR [LEN]', help: 'stop after a read or a write', run: (a) => this.#watch('access', a) },
      { names: ['delete', 'd'], usage: 'delete [ID...]', help: 'delete breakpoints (all without IDs)', run: (a) => this.#delete(a) },
      { names: ['bt', 'backtrace', 'where'], usage: 'bt', help: 'the frame chain, innermost first, with stack depths and tail call counters', run: () => this.#backtrace() },
      { names: ['info', 'i'], usage: 'info registers|breakpoints|slots MAP|maps|globals|frame', help: 'state of the target', run: (a) => this.#info(a) },
      { names: ['x'], usage: 'x/NFU ADDR', help: 'memory: N units (U: b h w g) as F (x d u) or N instructions (F i)', run: (a, w) => this.#examine(w, a) },
      { names: ['print', 'p'], usage: 'print EXPR', help: 'an expression: registers (r1, rdi), tcc, $pc, globals, symbols, *ADDR', run: (a) => this.#print(a) },
      { names: ['list', 'l'], usage: 'list [LOCATION]', help: 'BPF instructions around pc with their x86 code and source lines', run: (a) => this.#list(a) },
      { names: ['disassemble', 'disas'], usage: 'disassemble [FUNCTION]', help: 'every BPF instruction of the function with its x86 code', run: (a) => this.#disassemble(a) },
      { names: ['help', 'h'], usage: 'help', help: 'this list', run: () => this.#help() },
      { names: ['quit', 'q', 'exit'], usage: 'quit', help: 'end the session', run: () => void (this.#quit = true) },
    ];
  }

  #backtrace(): void {
    this.#requireRun();
    this.#emit({ type: 'frames', frames: this.view.frames().map(frameJson) });
  }

  #help(): void {
    const w = Math.max(...this.#commands.map((c) => c.usage.length));
    this.#emit({ type: 'message', text: this.#commands.map((c) => `${c.usage.padEnd(w)}  ${c.help}`).join('\n') });
  }

  #repeat(n: number, f: () => boolean): void {
    for (let i = 0; i < n; i++) if (!f()) return;
  }

  // --- stopping and reporting ------------------------------------------------------------------

  /** Emits a stop; false when the target can go no further (between runs or exited). */
  #report(stop: StopEvent, fired: readonly number[], note?: string): boolean {
    const t = this.target;
    switch (stop.kind) {
      case 'run-end': {
        const r = stop.result;
        this.#emit({
          type: 'run-end', run: stop.run, retval: r.retval, r0: hex(r.r0), error: r.error,
          trace: { tail_calls: r.trace.tail_calls, tail_calls_refused: r.trace.tail_calls_refused, max_tail_calls_in_chain: r.trace.max_tail_calls_in_chain, bpf2bpf_calls: r.trace.bpf2bpf_calls },
          checks_ok: r.trace.checks.every((c) => c.ok),
        });
        return false;
      }
      case 'exited':
        this.#emit({ type: 'exited', retval: stop.retval, ...(stop.error ? { error: stop.error } : {}) });
        return false;
      case 'event':
        if (stop.pc === null) {
          this.#emit(this.#stopOutput('event', null, fired, { event: eventJson(stop.event) }));
          return false;
        }
        this.#emit(this.#stopOutput('event', stop.pc, fired, { event: eventJson(stop.event), ...(note ? { note } : {}) }));
        return true;
      case 'watchpoint':
        this.#emit(this.#stopOutput('watchpoint', stop.pc, fired, { note: `${stop.accessed} of ${hex(stop.address)}` }));
        return true;
      case 'start':
        this.#emit(this.#stopOutput('start', stop.pc, fired, { run: stop.run }));
        return true;
      case 'breakpoint':
        this.#emit(this.#stopOutput(fired.length ? 'breakpoint' : 'stopped', stop.pc, fired, note ? { note } : {}));
        return t.state === 'stopped';
      default:
        this.#emit(this.#stopOutput(note === 'finish' ? 'finish' : 'step', stop.pc, fired, note ? { note } : {}));
        return true;
    }
  }

  #stopOutput(reason: string, pc: bigint | null, fired: readonly number[], extra: Partial<StopOutput>): StopOutput {
    if (pc === null) return { type: 'stop', reason, pc: '-', where: 'between runs', tcc: null, ...(fired.length ? { breakpoints: fired } : {}), ...extra };
    const listing = this.view.listing(pc);
    const tcc = this.view.tcc();
    return {
      type: 'stop', reason, pc: hex(pc), where: this.view.where(pc), tcc: tcc?.value ?? null,
      ...(fired.length ? { breakpoints: fired } : {}),
      ...(listing ? { insn: listingJson(listing) } : {}),
      ...extra,
    };
  }

  /** Resumes until a stop the user asked for: breakpoints whose condition holds, events, `until`. */
  #resume(until: readonly bigint[] = []): { stop: StopEvent; fired: number[] } {
    for (let skipped = 0; ; skipped++) {
      const stop = this.target.resume({ until });
      const fired = this.#fired(stop);
      // A condition that stays false in a long run still hands control back now and then.
      if (fired === null && skipped < MAX_SKIPPED_HITS) continue;
      return { stop, fired: fired ?? [] };
    }
  }

  /** The breakpoints a stop fires (counted as hits); null when none does and the stop is only theirs. */
  #fired(stop: StopEvent): number[] | null {
    let candidates: Breakpoint[];
    switch (stop.kind) {
      case 'breakpoint': candidates = this.#breakpoints.filter((b) => b.addresses.includes(stop.pc)); break;
      case 'event': candidates = this.#breakpoints.filter((b) => b.event === stop.event.kind); break;
      case 'watchpoint': candidates = this.#breakpoints.filter((b) => b.watch && b.watch.kind === stop.watch && b.watch.address === stop.address); break;
      default: return [];
    }
    const fired = candidates.filter((b) => !b.condition || this.#holds(b.condition.expr));
    for (const b of fired) b.hits++;
    if (fired.length === 0 && candidates.length > 0) return null;
    return fired.map((b) => b.id);
  }

  #holds(e: Expr): boolean {
    try {
      return evaluate(e, this.#context()) !== 0n;
    } catch {
      return true; // a condition that cannot be evaluated stops, as gdb's does
    }
  }

  #continue(): boolean {
    const { stop, fired } = this.#resume();
    return this.#report(stop, fired);
  }

  #stepi(): boolean {
    return this.#report(this.target.stepInstruction(), []);
  }

  #nexti(): boolean {
    if (this.target.state !== 'stopped') return this.#stepi();
    const regs = this.target.readRegisters();
    const insn = this.view.x86At(regs.rip);
    if (!insn?.isCall) return this.#stepi();
    return this.#runToReturn(regs.rip + BigInt(insn.length), regs.rsp, 'step');
  }

  /** Resumes until `ret` is reached with rsp back at `rsp` (a call returned there, not a deeper one). */
  #runToReturn(ret: bigint, rsp: bigint, note: string): boolean {
    for (;;) {
      const { stop, fired } = this.#resume([ret]);
      if (stop.kind === 'until' && this.target.readRegister('rsp') < rsp) continue;
      return this.#report(stop, fired, stop.kind === 'until' ? note : undefined);
    }
  }

  #finish(): boolean {
    this.#requireRun();
    const frames = this.view.frames();
    const top = frames[0];
    if (top && top.kernel !== undefined && frames.length > 1) {
      // In a helper or a thunk: back to where it returns (the return address on top of the stack).
      const rsp = this.target.readRegister('rsp');
      return this.#runToReturn(frames[1].pc, rsp + 8n, 'finish');
    }
    const frame = frames.find((f) => f.image && f.retSlot !== undefined);
    if (!frame || frame.retSlot === undefined) throw new DebugError('debug.state', 'no BPF frame to finish');
    const ret = this.target.readMemory(frame.retSlot, 8);
    const addr = new DataView(ret.buffer, ret.byteOffset, 8).getBigUint64(0, true);
    const r = this.#runToReturn(addr, frame.retSlot + 8n, 'finish');
    if (this.target.state === 'stopped' && this.target.readRegister('rip') === addr) {
      const held = frame.names.length > 1 ? ` (the frame ${frame.names.join(' -> ')})` : '';
      this.#emit({ type: 'message', text: `${frame.image!.symbol}'s frame returned r0 = ${hex(this.target.readRegister('rax'))}${held}` });
    }
    return r;
  }

  /**
   * `step`/`next`: x86 steps until the pc is at the first byte of a BPF instruction, at a
   * function's first byte (a bpf2bpf call; `next` runs it to its return instead), or where a
   * tail call lands (bpf_func + X86_TAIL_CALL_OFFSET). Helpers and thunks are run through.
   */
  #stepBpf(over: boolean): boolean {
    if (this.target.state !== 'stopped') return this.#report(this.target.resume(), []);
    const t = this.target;
    const code = this.view.code;
    const k = t.machine.kernel;
    let prev = t.readRegister('rip');
    const startImage = code.imageAt(prev);
    for (let i = 0; i < MAX_STEP_INSNS; i++) {
      const s = t.stepInstruction();
      if (s.kind !== 'step') return this.#report(s, this.#fired(s) ?? []);
      const pc = s.pc;
      const loc = code.locate(pc);
      if (loc) {
        const why = this.#stepStop(loc, pc, prev);
        if (why === 'call' && over && startImage && code.imageAt(prev) === startImage) {
          const rsp = t.readRegister('rsp');
          const ret = k.mem.readU64(rsp);
          const r = this.#resumeTo(ret, rsp + 8n);
          if (r !== null) return this.#report(r.stop, r.fired);
          prev = ret - 1n;
          if (this.#boundary(code.locate(ret))) return this.#report({ kind: 'step', pc: ret }, []);
          continue;
        }
        if (why) return this.#report(s, [], why === 'landing' ? 'tail call landed at bpf_func + X86_TAIL_CALL_OFFSET' : why === 'call' ? `entered ${loc.image.symbol}` : undefined);
        prev = pc;
        continue;
      }
      const sym = code.kernelSymbolAt(pc);
      if (sym && (sym.kind === 'helper' || sym.name.includes('return_thunk'))) {
        // A helper or the return thunk: run it, to where it returns.
        const rsp = t.readRegister('rsp');
        const r = this.#resumeTo(k.mem.readU64(rsp), rsp + 8n);
        if (r !== null) return this.#report(r.stop, r.fired);
        const back = t.readRegister('rip');
        if (this.#boundary(code.locate(back))) return this.#report({ kind: 'step', pc: back }, []);
        prev = back;
        continue;
      }
      if (sym && sym.name.startsWith('__x86_indirect_thunk_')) {
        // A retpoline: the jump goes to rcx (a tail call) or rdx (the test run calling bpf_func).
        const to = t.readRegister(sym.name.endsWith('rcx') ? 'rcx' : 'rdx');
        const r = this.#resumeTo(to, null);
        if (r !== null) return this.#report(r.stop, r.fired);
        const l = code.locate(to);
        return this.#report({ kind: 'step', pc: to }, [], l && l.offset === code.tailCallOffset ? 'tail call landed at bpf_func + X86_TAIL_CALL_OFFSET' : undefined);
      }
      if (pc === k.entryAfterCall) {
        // The program returned to the test run: the next stop is the next repetition or the end.
        const { stop, fired } = this.#resume([t.machine.program(t.run!.prog).jit.funcs[0].address]);
        return this.#report(stop, fired);
      }
      prev = pc;
    }
    throw new DebugError('debug.state', `no BPF instruction boundary within ${MAX_STEP_INSNS} x86 instructions`);
  }

  /** Resumes to `to` (with rsp there equal to `rsp` when given); null when it got there, else the other stop. */
  #resumeTo(to: bigint, rsp: bigint | null): { stop: StopEvent; fired: number[] } | null {
    for (;;) {
      const r = this.#resume([to]);
      if (r.stop.kind !== 'until') return r;
      if (rsp === null || this.target.readRegister('rsp') === rsp) return null;
    }
  }

  #boundary(loc: CodeLocation | undefined): boolean {
    return loc !== undefined && loc.atStart && loc.index !== null;
  }

  /** Why `step` stops at `pc` after `prev`, or null to keep stepping. */
  #stepStop(loc: CodeLocation, pc: bigint, prev: bigint): 'insn' | 'call' | 'landing' | null {
    if (loc.offset === 0) return 'call';
    // A tail call arrives at X86_TAIL_CALL_OFFSET by a jump; a function's own entry reaches it from `mov rbp,rsp` (3 bytes before).
    if (loc.offset === this.view.code.tailCallOffset && prev !== pc - 3n) return 'landing';
    if (loc.atStart && loc.index !== null) return 'insn';
    return null;
  }

  #requireRun(): void {
    if (this.target.state !== 'stopped') throw new DebugError('debug.state', this.target.state === 'exited' ? 'the scenario is over' : "no run in progress ('run' or 'continue' starts the next)");
  }

  // --- breakpoints -----------------------------------------------------------------------------

  #break(args: string): void {
    const m = /^(.*?)(?:^|\s+)if\s+(.+)$/.exec(args);
    const spec = (m ? m[1] : args).trim();
    const condition = m ? { text: m[2].trim(), expr: parseExpr(m[2].trim()) } : undefined;
    const id = this.#nextId;
    let bp: Breakpoint;
    if ((EVENT_KINDS as readonly string[]).includes(spec)) {
      bp = { id, what: `event ${spec}`, addresses: [], event: spec as EventKind, ...(condition ? { condition } : {}), hits: 0 };
    } else {
      const { what, addresses } = this.#location(spec);
      bp = { id, what, addresses, ...(condition ? { condition } : {}), hits: 0 };
      for (const a of addresses) this.target.insertBreakpoint(a);
    }
    this.#nextId++;
    this.#breakpoints.push(bp);
    this.#syncEvents();
    this.#emit({ type: 'breakpoint', id, what: bp.what, addresses: bp.addresses.map(hex), ...(condition ? { condition: condition.text } : {}) });
  }

  #watch(kind: WatchKind, args: string): void {
    const parts = args.split(/\s+/).filter(Boolean);
    if (parts.length < 1 || parts.length > 2) throw new DebugError('debug.usage', `usage: ${kind === 'write' ? 'watch' : kind === 'read' ? 'rwatch' : 'awatch'} ADDR [LEN]`);
    const address = this.#value(parts[0]);
    const length = parts[1] === undefined ? 8 : Number(parts[1]);
    if (!Number.isSafeInteger(length) || length < 1 || length > 4096) throw new DebugError('debug.usage', `bad length '${parts[1]}'`);
    this.target.insertWatchpoint(kind, address, length);
    const id = this.#nextId++;
    const what = `${kind} watchpoint on ${length} bytes`;
    this.#breakpoints.push({ id, what, addresses: [], watch: { kind, address, length }, hits: 0 });
    this.#emit({ type: 'breakpoint', id, what, addresses: [hex(address)] });
  }

  #delete(args: string): void {
    const ids = args === '' ? this.#breakpoints.map((b) => b.id) : args.split(/\s+/).map(Number);
    for (const id of ids) {
      const i = this.#breakpoints.findIndex((b) => b.id === id);
      if (i < 0) throw new DebugError('debug.unknown', `no breakpoint ${id}`);
      const b = this.#breakpoints[i];
      for (const a of b.addresses) this.target.removeBreakpoint(a);
      if (b.watch) this.target.removeWatchpoint(b.watch.kind, b.watch.address, b.watch.length);
      this.#breakpoints.splice(i, 1);
    }
    this.#syncEvents();
    this.#emit({ type: 'message', text: `deleted ${ids.length} breakpoint${ids.length === 1 ? '' : 's'}` });
  }

  #syncEvents(): void {
    this.target.catchEvents(this.#breakpoints.flatMap((b) => (b.event ? [b.event] : [])));
  }

  /** Resolves a breakpoint location to its code addresses. */
  #location(spec: string): { what: string; addresses: bigint[] } {
    const code = this.view.code;
    if (spec === '') {
      this.#requireRun();
      const pc = this.target.readRegister('rip');
      return { what: this.view.where(pc), addresses: [pc] };
    }
    if (spec.startsWith('*') || /^0x[0-9a-f]+$/i.test(spec)) {
      const a = this.#value(spec.replace(/^\*/, ''));
      return { what: this.view.where(a), addresses: [a] };
    }
    const colon = /^(.+):(\d+)$/.exec(spec);
    if (colon) {
      const [, left, n] = colon;
      const images = code.imagesNamed(left);
      if (images.length) {
        const prog = images[0].prog.name;
        const slot = Number(n);
        const image = code.imageOfSlot(prog, slot);
        return { what: `${prog}:${slot}`, addresses: [code.insnAddress(image, code.indexOf(image, slot))] };
      }
      const addresses = code.lineAddresses(left, Number(n));
      if (addresses.length === 0) throw new DebugError('debug.unknown', `no program or source line ${spec} (programs: ${code.programNames().join(', ')})`);
      return { what: spec, addresses };
    }
    const plus = /^([\w/.]+)\+(0x[0-9a-f]+|\d+)$/i.exec(spec);
    if (plus) {
      const base = code.symbolAddress(plus[1]);
      if (base === undefined) throw new DebugError('debug.unknown', `no symbol ${plus[1]}`);
      return { what: spec, addresses: [base + BigInt(plus[2])] };
    }
    const images = code.imagesNamed(spec);
    if (images.length) return { what: spec, addresses: images.map((i) => code.insnAddress(i, 0)) };
    const k = code.kernelSymbols.find((s) => s.name === spec);
    if (k) return { what: spec, addresses: [k.address] };
    throw new DebugError('debug.unknown', `no function, program or event named '${spec}' (programs: ${code.programNames().join(', ')}; events: ${EVENT_KINDS.join(', ')})`);
  }

  // --- state -----------------------------------------------------------------------------------

  #context(): ExprContext {
    const t = this.target;
    const code = this.view.code;
    return {
      lookup: (name) => {
        const n = name.replace(/^\$/, '');
        if (n === 'tcc') {
          const c = this.view.tcc();
          if (!c) throw new DebugError('debug.state', 'no tail call counter here (the function is not tail-call reachable)');
          return BigInt(c.value);
        }
        if (n === 'pc') return t.readRegister('rip');
        if (n === 'sp') return t.readRegister('rsp');
        if (n === 'fp') return t.readRegister('rbp');
        const reg = registerByName(n);
        if (reg) {
          if (t.state !== 'stopped') throw new DebugError('debug.state', 'no run in progress: registers are not live');
          return t.readRegister(reg);
        }
        const g = this.view.globals()[n];
        if (typeof g === 'number' || typeof g === 'bigint') return BigInt(g);
        return code.symbolAddress(n);
      },
      addressOf: (name) => this.view.globalAddress(name) ?? code.symbolAddress(name),
      readU64: (a) => {
        const b = t.readMemory(a, 8);
        return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
      },
    };
  }

  #value(text: string): bigint {
    return evaluate(parseExpr(text), this.#context());
  }

  #print(args: string): void {
    if (args === '') throw new DebugError('debug.usage', 'usage: print EXPR');
    if (args.trim() === 'tcc') {
      const c = this.view.tcc();
      if (!c) throw new DebugError('debug.state', 'no tail call counter here (the function is not tail-call reachable)');
      const frame = this.view.frames().find((f) => f.image);
      const from = c.source === 'slot' ? `the counter slot [${hex(c.address!)}]`
        : c.source === 'pointer' ? `the run's counter [${hex(c.address!)}] through tcc_ptr`
        : c.source === 'rax' ? (this.view.code.tailCallCounter === 'slot' ? 'rax bits 32-63 (handed over by a call or tail call, not in the slot yet)' : 'rax (handed over by a tail call, not in the slot yet)')
        : 'a fresh run (xor at +5)';
      const model = frame?.modelTcc !== null && frame?.modelTcc !== undefined ? `; the observer counted ${frame.modelTcc}` : '';
      this.#emit({ type: 'value', expr: 'tcc', value: hex(BigInt(c.value)), decimal: String(c.value), note: `from ${from}${model}` });
      return;
    }
    const v = this.#value(args);
    this.#emit({ type: 'value', expr: args, value: hex(v), decimal: v.toString() });
  }

  #info(args: string): void {
    const [what, ...rest] = args.split(/\s+/).filter(Boolean);
    const t = this.target;
    switch (what) {
      case 'registers': case 'reg': case 'r': case 'all-registers': {
        this.#requireRun();
        const regs = t.readRegisters();
        const bpfOf = new Map(Object.entries(BPF_REGS).map(([b, x]) => [x, b]));
        const names = rest.length ? rest.map((n) => registerByName(n) ?? (() => { throw new DebugError('debug.unknown', `no register ${n}`); })()) : X86_REG_NAMES;
        this.#emit({ type: 'registers', registers: names.map((n) => ({ name: n, ...(bpfOf.has(n) ? { bpf: bpfOf.get(n)! } : {}), value: hex(regs[n]) })) });
        return;
      }
      case 'breakpoints': case 'break': case 'b': case 'watchpoints':
        this.#emit({ type: 'breakpoints', list: this.#breakpoints.map((b) => ({ id: b.id, what: b.what, addresses: b.addresses.map(hex), ...(b.condition ? { condition: b.condition.text } : {}), hits: b.hits })) });
        return;
      case 'maps':
        this.#emit({ type: 'maps', maps: this.view.maps().map((m) => ({ name: m.name, kind: m.kind, key_size: m.keySize, value_size: m.valueSize, max_entries: m.maxEntries, address: hex(m.address) })) });
        return;
      case 'slots': {
        const maps = rest.length ? rest : t.machine.kernel.maps.filter((m) => m instanceof ProgArrayMap).map((m) => m.name);
        if (maps.length === 0) throw new DebugError('debug.unknown', 'no prog arrays');
        for (const m of maps) this.#emit({ type: 'slots', map: m, slots: this.view.slots(m) });
        return;
      }
      case 'globals':
        this.#emit({ type: 'globals', globals: this.view.globals() as Record<string, unknown> });
        return;
      case 'frame':
        this.#requireRun();
        this.#emit({ type: 'frames', frames: this.view.frames().slice(0, 1).map(frameJson) });
        return;
      default:
        throw new DebugError('debug.usage', `usage: info registers|breakpoints|slots [MAP]|maps|globals|frame`);
    }
  }

  /** `x/NFU ADDR`: the command word carries the format. */
  #examine(word: string, args: string): void {
    const fmt = /^x(?:\/(\d*)([xduib]?)([bhwg]?)([xduib]?))?$/.exec(word);
    if (!fmt) throw new DebugError('debug.usage', `bad format '${word}' (x/NFU: N count, F x d u i, U b h w g)`);
    const n = fmt[1] ? Number(fmt[1]) : 1;
    if (!Number.isSafeInteger(n) || n < 1 || n > 4096) throw new DebugError('debug.usage', `bad count in '${word}'`);
    let f = fmt[2] || fmt[4] || 'x';
    let u = fmt[3] || 'w';
    if (f === 'b') { u = 'b'; f = 'x'; } // `x/8b` reads as bytes in hex
    if (args === '') throw new DebugError('debug.usage', 'usage: x/NFU ADDR');
    const address = this.#value(args);
    if (f === 'i') {
      const lines = this.view.disassemble(address, 15 * n).slice(0, n);
      this.#emit({ type: 'listing', pc: null, insns: [{ image: this.view.where(address), slot: null, bpf: `x/${n}i ${this.view.where(address)}`, x86: lines.map((x) => ({ address: hex(x.address), bytes: x.bytes, text: x.text })) }] });
      return;
    }
    const unit = { b: 1, h: 2, w: 4, g: 8 }[u as 'b' | 'h' | 'w' | 'g'];
    const bytes = this.target.readMemory(address, unit * n);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const values: string[] = [];
    for (let i = 0; i < n; i++) {
      const raw = unit === 8 ? dv.getBigUint64(i * 8, true) : BigInt(unit === 4 ? dv.getUint32(i * 4, true) : unit === 2 ? dv.getUint16(i * 2, true) : dv.getUint8(i));
      const signed = BigInt.asIntN(unit * 8, raw);
      values.push(f === 'd' ? signed.toString() : f === 'u' ? raw.toString() : `0x${raw.toString(16).padStart(unit * 2, '0')}`);
    }
    this.#emit({ type: 'memory', address: hex(address), unit, format: f, values });
  }

  #list(args: string): void {
    let pc: bigint;
    if (args === '') {
      this.#requireRun();
      pc = this.target.readRegister('rip');
    } else {
      pc = this.#location(args).addresses[0];
    }
    const insns = this.view.around(pc, 2, 3);
    if (insns.length === 0) throw new DebugError('debug.unknown', `${this.view.where(pc)} is not in a JIT image`);
    this.#emit({ type: 'listing', pc: hex(pc), insns: insns.map(listingJson) });
  }

  #disassemble(args: string): void {
    let image;
    if (args === '') {
      this.#requireRun();
      image = this.view.code.imageAt(this.target.readRegister('rip'));
    } else {
      image = this.view.code.imagesNamed(args)[0];
    }
    if (!image) throw new DebugError('debug.unknown', args ? `no function ${args}` : 'pc is not in a JIT image');
    const pc = this.target.state === 'stopped' ? hex(this.target.readRegister('rip')) : null;
    this.#emit({ type: 'listing', pc, insns: [null, ...image.insns.map((_, k) => k)].map((k) => listingJson(this.view.listingOf(image, k))) });
  }
}

function splitWord(text: string): string[] {
  return text.split(/\s+/);
}

function eventJson(e: KernelEvent): Record<string, unknown> {
  switch (e.kind) {
    case 'tailcall': return { kind: e.kind, from: e.from, insn: e.insn, to: e.to, target: hex(e.target), via: e.via };
    case 'return': return { kind: e.kind, from: e.from, r0: hex(e.r0) };
    case 'helper': return { kind: e.kind, name: e.name, args: e.args.map(hex) };
    case 'poke': return { kind: e.kind, step: e.step, map: e.map, slot: e.slot, prog: e.prog, sites: e.report.sites.map((s) => `${s.prog} insn ${s.insn} ${s.path.join('->')}`) };
    default: return { ...e };
  }
}
