// What each GDB remote packet does to the target: one small handler per packet, found in one
// table by the packet's name (the longest matching prefix), apart from the framing (packet.ts)
// and the socket (server.ts). A handler returns the reply payload; a malformed packet is a
// RangeError or a TailjitError, which the dispatcher answers with `E01`/`E14`/`E22`, never a
// crash. The target has one thread (id 1); every resume is synchronous.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TailjitError } from '../../../src/errors.js';
import type { RunResult } from '../../harness/index.js';
import { GDB_REGISTERS, type X86RegName } from '../registers.js';
import type { DebugTarget, StopEvent, WatchKind } from '../target.js';
import { MAX_PACKET, fromHex, leHex, parseHexNumber, parseLeHex, toHex } from './packet.js';

export interface StubSession {
  readonly target: DebugTarget;
  /** After QStartNoAckMode: no `+` for packets either way. */
  noAck: boolean;
  /** Console output (`O` packets) sent before the reply of a resume. */
  console(text: string): void;
}

export interface Reply {
  readonly payload: string | null;
  /** End the connection after sending (k, D). */
  readonly close?: boolean;
}

type Handler = (args: string, s: StubSession) => string | Reply;

/** Linux signal numbers for stop replies. */
const SIGNAL = { TRAP: 0x05, ILL: 0x04, FPE: 0x08, SEGV: 0x0b, XCPU: 0x18 } as const;

const OK = 'OK';
const THREAD = 'thread:01;';

// --- target.xml --------------------------------------------------------------------------------

let targetXml: string | undefined;

/** The register description, kept as a data file next to the sources (also found from dist/). */
export function targetDescription(): string {
  if (targetXml !== undefined) return targetXml;
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [here, join(here, '..', '..', '..', '..', 'emu', 'debug', 'gdb')]) {
    try {
      return (targetXml = readFileSync(join(dir, 'target.xml'), 'utf8'));
    } catch {
      // try the next place
    }
  }
  throw new Error('emu/debug/gdb/target.xml is missing');
}

// --- stop replies ------------------------------------------------------------------------------

const WATCH_KEY: Record<WatchKind, string> = { write: 'watch', read: 'rwatch', access: 'awatch' };

export function stopReply(stop: StopEvent): string {
  const sig = (n: number) => n.toString(16).padStart(2, '0');
  switch (stop.kind) {
    case 'breakpoint': return `T${sig(SIGNAL.TRAP)}swbreak:;${THREAD}`;
    case 'watchpoint': return `T${sig(SIGNAL.TRAP)}${WATCH_KEY[stop.watch]}:${stop.address.toString(16)};${THREAD}`;
    case 'exited': return `W${sig((stop.retval ?? 0) & 0xff)}`;
    case 'run-end': return `T${sig(faultSignal(stop.result))}${THREAD}`;
    default: return `T${sig(SIGNAL.TRAP)}${THREAD}`;
  }
}

function faultSignal(r: RunResult): number {
  const e = r.error;
  if (!e) return SIGNAL.TRAP;
  if (e.kind === 'budget') return SIGNAL.XCPU;
  if (/#UD|invalid instruction/.test(e.message)) return SIGNAL.ILL;
  if (/#DE/.test(e.message)) return SIGNAL.FPE;
  if (/#BP|int3/.test(e.message)) return SIGNAL.TRAP;
  return SIGNAL.SEGV;
}

/** gdb's console line for a run that ended. */
function runSummary(stop: Extract<StopEvent, { kind: 'run-end' }>): string {
  const r = stop.result;
  const what = r.error ? `ended: ${r.error.kind}: ${r.error.message}` : `returned ${r.retval}`;
  return `tailjit: run ${stop.run.index} of ${stop.run.prog} ${what} (${r.trace.tail_calls} tail calls)\n`;
}

/**
 * Resumes (or steps) and answers with the stop. A run that returns is announced on gdb's
 * console and the next one starts, stopped before its first instruction; a run that faulted
 * is reported with its signal, with the registers where it faulted.
 */
function resume(s: StubSession, step: boolean): string {
  let stop = step ? s.target.stepInstruction() : s.target.resume();
  for (;;) {
    if (stop.kind === 'event' && stop.pc === null) {
      stop = s.target.resume();
      continue;
    }
    if (stop.kind !== 'run-end') return stopReply(stop);
    s.console(runSummary(stop));
    if (stop.result.error && stop.result.error.kind !== 'check') return stopReply(stop);
    stop = s.target.resume();
  }
}

// --- registers and memory ----------------------------------------------------------------------

function readAllRegisters(s: StubSession): string {
  const regs = s.target.readRegisters();
  return GDB_REGISTERS.map((r) => leHex(typeof r.source === 'string' ? regs[r.source] : r.source.constant, r.bits / 8)).join('');
}

function writeAllRegisters(args: string, s: StubSession): string {
  const want = GDB_REGISTERS.reduce((n, r) => n + r.bits / 4, 0);
  if (args.length !== want) throw new RangeError(`G: ${args.length} hex digits, the registers take ${want}`);
  let at = 0;
  for (const r of GDB_REGISTERS) {
    const digits = r.bits / 4;
    const v = parseLeHex(args.slice(at, at + digits));
    at += digits;
    if (typeof r.source === 'string') s.target.writeRegister(r.source as X86RegName, v);
  }
  return OK;
}

function register(args: string): (typeof GDB_REGISTERS)[number] {
  const n = Number(parseHexNumber(args, 'register number'));
  const r = GDB_REGISTERS[n];
  if (!r) throw new RangeError(`no register ${n}`);
  return r;
}

function readOneRegister(args: string, s: StubSession): string {
  const r = register(args);
  return leHex(typeof r.source === 'string' ? s.target.readRegisters()[r.source] : r.source.constant, r.bits / 8);
}

function writeOneRegister(args: string, s: StubSession): string {
  const [n, v] = split(args, '=', 'P');
  const r = register(n);
  if (v.length !== r.bits / 4) throw new RangeError(`P: ${r.name} takes ${r.bits / 4} hex digits`);
  if (typeof r.source === 'string') s.target.writeRegister(r.source, parseLeHex(v));
  return OK;
}

function split(text: string, sep: string, what: string): [string, string] {
  const i = text.indexOf(sep);
  if (i < 0) throw new RangeError(`${what}: expected '${sep}'`);
  return [text.slice(0, i), text.slice(i + 1)];
}

function addressLength(text: string, what: string): { address: bigint; length: number } {
  const [a, l] = split(text, ',', what);
  const length = Number(parseHexNumber(l, 'length'));
  if (length > MAX_PACKET) throw new RangeError(`${what}: ${length} bytes is more than the packet size`);
  return { address: parseHexNumber(a, 'address'), length };
}

/** `m`: as many bytes as are mapped from the start (gdb copes with a short read), page by page. */
function readMemory(args: string, s: StubSession): string {
  const { address, length } = addressLength(args, 'm');
  let out = '';
  let a = address;
  const end = address + BigInt(length);
  while (a < end) {
    const pageEnd = (a | 0xfffn) + 1n;
    const n = Number((pageEnd < end ? pageEnd : end) - a);
    try {
      out += toHex(s.target.readMemory(a, n));
    } catch (e) {
      if (out === '' ) throw e;
      break;
    }
    a += BigInt(n);
  }
  return out;
}

function writeMemory(args: string, s: StubSession): string {
  const [head, data] = split(args, ':', 'M');
  const { address, length } = addressLength(head, 'M');
  const bytes = fromHex(data);
  if (bytes.length !== length) throw new RangeError(`M: ${bytes.length} bytes of data for a length of ${length}`);
  s.target.writeMemory(address, bytes);
  return OK;
}

function writeBinary(args: string, s: StubSession): string {
  const [head, data] = split(args, ':', 'X');
  const { address, length } = addressLength(head, 'X');
  if (data.length !== length) throw new RangeError(`X: ${data.length} bytes of data for a length of ${length}`);
  if (length > 0) s.target.writeMemory(address, Uint8Array.from(Buffer.from(data, 'latin1')));
  return OK;
}

// --- breakpoints -------------------------------------------------------------------------------

const WATCH_TYPES: Record<string, WatchKind> = { '2': 'write', '3': 'read', '4': 'access' };

function breakpoint(insert: boolean): Handler {
  return (args, s) => {
    const [type, rest] = split(args, ',', insert ? 'Z' : 'z');
    const [a, k] = split(rest.split(';')[0], ',', insert ? 'Z' : 'z');
    const address = parseHexNumber(a, 'address');
    const kind = Number(parseHexNumber(k, 'kind'));
    if (type === '0' || type === '1') {
      if (insert) s.target.insertBreakpoint(address);
      else s.target.removeBreakpoint(address);
      return OK;
    }
    const watch = WATCH_TYPES[type];
    if (!watch) return '';
    if (insert) s.target.insertWatchpoint(watch, address, kind);
    else s.target.removeWatchpoint(watch, address, kind);
    return OK;
  };
}

// --- resuming ----------------------------------------------------------------------------------

/** `c [addr]`, `s [addr]`, `C sig[;addr]`, `S sig[;addr]`: resume at addr when given. */
function resumeAt(step: boolean, withSignal: boolean): Handler {
  return (args, s) => {
    const addr = withSignal ? args.split(';')[1] : args;
    if (addr) s.target.writeRegister('rip', parseHexNumber(addr, 'address'));
    return resume(s, step);
  };
}

/** `vCont;ACTION[:thread]...`: the action for thread 1 (or the default one). */
function vCont(args: string, s: StubSession): string {
  if (!args.startsWith(';')) throw new RangeError('vCont: expected actions');
  const actions = args.slice(1).split(';').map((a) => {
    const [action, thread] = a.split(':');
    return { action, thread };
  });
  const mine = actions.find((a) => a.thread === undefined || a.thread === '1' || a.thread === '01' || a.thread === '-1');
  if (!mine) throw new RangeError('vCont: no action for thread 1');
  switch (mine.action[0]) {
    case 's': case 'S': return resume(s, true);
    case 'c': case 'C': return resume(s, false);
    default: throw new RangeError(`vCont: action '${mine.action}' is not supported`);
  }
}

// --- queries -----------------------------------------------------------------------------------

function qSupported(): string {
  return `PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+`;
}

/** `qXfer:features:read:ANNEX:OFFSET,LENGTH`. */
function qXferFeatures(args: string): string {
  const [annex, range] = split(args, ':', 'qXfer');
  if (annex !== 'target.xml') return 'E00';
  const { address, length } = addressLength(range, 'qXfer');
  const xml = targetDescription();
  const off = Number(address);
  const chunk = xml.slice(off, off + length);
  return (off + length >= xml.length ? 'l' : 'm') + chunk;
}

// --- the table ---------------------------------------------------------------------------------

const HANDLERS: readonly (readonly [string, Handler])[] = [
  ['qSupported', () => qSupported()],
  ['qXfer:features:read:', qXferFeatures],
  ['QStartNoAckMode', (_a, s) => ((s.noAck = true), OK)],
  ['qAttached', () => '1'],
  ['qC', () => 'QC01'],
  ['qfThreadInfo', () => 'm01'],
  ['qsThreadInfo', () => 'l'],
  ['qSymbol', () => OK],
  ['qOffsets', () => 'Text=0;Data=0;Bss=0'],
  ['vMustReplyEmpty', () => ''],
  ['vCont?', () => 'vCont;c;C;s;S'],
  ['vCont', vCont],
  ['vKill', () => ({ payload: OK, close: true })],
  ['?', (_a, s) => stopReply(s.target.lastStop)],
  ['g', (_a, s) => readAllRegisters(s)],
  ['G', writeAllRegisters],
  ['p', readOneRegister],
  ['P', writeOneRegister],
  ['m', readMemory],
  ['M', writeMemory],
  ['X', writeBinary],
  ['Z', breakpoint(true)],
  ['z', breakpoint(false)],
  ['s', resumeAt(true, false)],
  ['c', resumeAt(false, false)],
  ['S', resumeAt(true, true)],
  ['C', resumeAt(false, true)],
  ['H', () => OK],
  ['T', () => OK],
  ['k', () => ({ payload: null, close: true })],
  ['D', () => ({ payload: OK, close: true })],
];

/** The reply to one packet; unknown packets get the empty reply (unsupported), bad ones an error. */
export function dispatch(payload: string, s: StubSession): Reply {
  let best: readonly [string, Handler] | undefined;
  for (const h of HANDLERS) if (payload.startsWith(h[0]) && (!best || h[0].length > best[0].length)) best = h;
  if (!best) return { payload: '' };
  try {
    const r = best[1](payload.slice(best[0].length), s);
    return typeof r === 'string' ? { payload: r } : r;
  } catch (e) {
    if (e instanceof RangeError) return { payload: 'E01' };
    if (e instanceof TailjitError) return { payload: e.code === 'debug.memory' ? 'E14' : 'E22' };
    throw e;
  }
}
