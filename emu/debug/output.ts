// What `tailjit debug` reports, as plain objects (one per line with --json, addresses as
// `0x...` strings) and as text for the terminal. The debugger builds these; nothing else
// formats its output.

import type { RunError, RunTrace } from '../harness/index.js';
import type { Frame } from './frames.js';
import type { KernelEvent, RunInfo } from './target.js';
import type { InsnListing } from './view.js';

export const hex = (v: bigint): string => `0x${v.toString(16)}`;

export interface StopOutput {
  readonly type: 'stop';
  /** start, breakpoint, watchpoint, step, finish, event. */
  readonly reason: string;
  readonly pc: string;
  readonly where: string;
  readonly breakpoints?: readonly number[];
  readonly event?: Record<string, unknown>;
  readonly tcc: number | null;
  readonly run?: RunInfo;
  readonly insn?: InsnListingJson;
  readonly note?: string;
}

export interface InsnListingJson {
  readonly image: string;
  readonly slot: number | null;
  readonly bpf: string;
  readonly source?: { readonly file: string; readonly line: number; readonly text: string };
  readonly x86: readonly { readonly address: string; readonly bytes: string; readonly text: string }[];
}

export interface FrameJson {
  readonly level: number;
  readonly pc: string;
  readonly function: string;
  readonly insn: number | null;
  readonly kernel: boolean;
  readonly rbp: string | null;
  readonly stack_depth: number | null;
  readonly tcc: number | null;
  readonly tcc_from: string | null;
  readonly tcc_model: number | null;
  /** The functions this frame held, in order (tail calls replace them). */
  readonly chain: readonly string[];
  readonly source?: string;
}

export type DebugOutput =
  | { readonly type: 'command'; readonly line: string }
  | StopOutput
  | { readonly type: 'run-end'; readonly run: RunInfo; readonly retval: number; readonly r0: string; readonly error: RunError | null; readonly trace: Pick<RunTrace, 'tail_calls' | 'tail_calls_refused' | 'max_tail_calls_in_chain' | 'bpf2bpf_calls'>; readonly checks_ok: boolean }
  | { readonly type: 'exited'; readonly retval: number | null; readonly error?: string }
  | { readonly type: 'breakpoint'; readonly id: number; readonly what: string; readonly addresses: readonly string[]; readonly condition?: string }
  | { readonly type: 'breakpoints'; readonly list: readonly { id: number; what: string; addresses: readonly string[]; condition?: string; hits: number }[] }
  | { readonly type: 'frames'; readonly frames: readonly FrameJson[] }
  | { readonly type: 'registers'; readonly registers: readonly { name: string; bpf?: string; value: string }[] }
  | { readonly type: 'memory'; readonly address: string; readonly unit: number; readonly format: string; readonly values: readonly string[] }
  | { readonly type: 'value'; readonly expr: string; readonly value: string; readonly decimal: string; readonly note?: string }
  | { readonly type: 'listing'; readonly pc: string | null; readonly insns: readonly InsnListingJson[] }
  | { readonly type: 'maps'; readonly maps: readonly { name: string; kind: string; key_size: number; value_size: number; max_entries: number; address: string }[] }
  | { readonly type: 'slots'; readonly map: string; readonly slots: readonly (string | null)[] }
  | { readonly type: 'globals'; readonly globals: Record<string, unknown> }
  | { readonly type: 'message'; readonly text: string }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

export function listingJson(l: InsnListing): InsnListingJson {
  return { ...l, x86: l.x86.map((x) => ({ address: hex(x.address), bytes: x.bytes, text: x.text })) };
}

export function frameJson(f: Frame): FrameJson {
  const fn = f.image ? f.image.symbol : f.kernel ?? '?';
  return {
    level: f.level, pc: hex(f.pc), function: fn, insn: f.slot ?? null, kernel: !f.image,
    rbp: f.base === null ? null : hex(f.base), stack_depth: f.stackDepth,
    tcc: f.tcc?.value ?? null,
    tcc_from: f.tcc ? (f.tcc.source === 'slot' || f.tcc.source === 'pointer' ? `[${hex(f.tcc.address!)}]` : f.tcc.source) : null,
    tcc_model: f.modelTcc,
    chain: f.names,
    ...(f.line ? { source: `${f.line.file}:${f.line.line}` } : {}),
  };
}

/** JSON with bigints as `0x...`. */
export function toJsonLine(o: DebugOutput): string {
  return JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? hex(v) : v));
}

// --- text --------------------------------------------------------------------------------------

function listingText(l: InsnListingJson, mark?: string): string[] {
  const out: string[] = [];
  if (l.source) out.push(`      ; ${l.source.text}  (${l.source.file}:${l.source.line})`);
  out.push(`      ${l.slot === null ? '' : `${l.slot}: `}${l.bpf}`);
  for (const x of l.x86) out.push(`${x.address === mark ? '=> ' : '   '}${x.address}  ${x.bytes.padEnd(22)} ${x.text}`);
  return out;
}

function eventText(e: Record<string, unknown>): string {
  switch (e.kind) {
    case 'tailcall': return `tail call from ${e.from} insn ${e.insn} to ${e.to} (${e.via})`;
    case 'tailcall-refused': return `tail call refused at ${e.from} insn ${e.insn} (${String(e.reason).replace('_', ' ')})`;
    case 'call': return `call from ${e.from} to ${e.to}`;
    case 'return': return `return from ${e.from}, r0 = ${e.r0}`;
    case 'helper': return `helper ${e.name}(${(e.args as string[]).join(', ')})`;
    case 'poke': return `text poke: step ${e.step} ${e.prog === null ? 'deleted' : `set ${e.prog} in`} ${e.map}[${e.slot}]${(e.sites as string[]).length ? `: ${(e.sites as string[]).join(', ')}` : ''}`;
    default: return String(e.kind);
  }
}

function stopText(o: StopOutput): string[] {
  const tcc = o.tcc === null ? '' : `, tcc ${o.tcc}`;
  let head: string;
  switch (o.reason) {
    case 'start': {
      const r = o.run!;
      head = `run ${r.index}${r.step !== null ? ` (step ${r.step}${r.label ? `: ${r.label}` : ''})` : ''} of ${r.prog}: stopped at ${o.where}${tcc}`;
      break;
    }
    case 'breakpoint': head = `breakpoint ${o.breakpoints!.join(', ')}: ${o.where}${tcc}`; break;
    case 'watchpoint': head = `watchpoint ${o.breakpoints!.join(', ')}: ${o.note}; now at ${o.where}${tcc}`; break;
    case 'event': head = `${o.breakpoints?.length ? `breakpoint ${o.breakpoints.join(', ')}: ` : ''}${eventText(o.event!)}${o.pc !== '-' ? `; at ${o.where}` : ''}${tcc}`; break;
    default: head = `${o.where}${tcc}${o.note ? ` (${o.note})` : ''}`;
  }
  const out = [head];
  if (o.insn) out.push(...listingText(o.insn, o.pc));
  return out;
}

/** `deep -> target`; repeats collapsed: `loop_direct (34 times)` for a program tail-calling itself. */
function chainText(names: readonly string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; ) {
    let j = i;
    while (j < names.length && names[j] === names[i]) j++;
    parts.push(j - i > 1 ? `${names[i]} (${j - i} times)` : names[i]);
    i = j;
  }
  return parts.join(' -> ');
}

export function formatOutput(o: DebugOutput): string {
  switch (o.type) {
    case 'command': return `(tailjit) ${o.line}`;
    case 'stop': return stopText(o).join('\n');
    case 'run-end': {
      const t = o.trace;
      const head = `run ${o.run.index} of ${o.run.prog} ${o.error ? `ended: ${o.error.kind}: ${o.error.message}` : `returned ${o.retval} (r0 ${o.r0})`}`;
      return `${head}; ${t.tail_calls} tail calls, ${t.tail_calls_refused} refused, at most ${t.max_tail_calls_in_chain} in a chain, ${t.bpf2bpf_calls} bpf2bpf calls; checks ${o.checks_ok ? 'ok' : 'FAILED'}`;
    }
    case 'exited': return `no runs left${o.retval !== null ? `; the last run returned ${o.retval}` : ''}${o.error ? ` (${o.error})` : ''}`;
    case 'breakpoint': return `breakpoint ${o.id}: ${o.what}${o.addresses.length ? ` at ${o.addresses.join(', ')}` : ''}${o.condition ? ` if ${o.condition}` : ''}`;
    case 'breakpoints':
      if (o.list.length === 0) return 'no breakpoints';
      return o.list.map((b) => `${String(b.id).padStart(3)}  ${b.what}${b.addresses.length ? ` at ${b.addresses.join(', ')}` : ''}${b.condition ? ` if ${b.condition}` : ''}; hit ${b.hits} time${b.hits === 1 ? '' : 's'}`).join('\n');
    case 'frames':
      return o.frames.map((f) => {
        if (f.kernel) return `#${f.level}  ${f.pc} in ${f.function} (kernel)`;
        const chain = f.chain.length > 1 ? ` [${chainText(f.chain)}]` : '';
        const tcc = f.tcc === null ? 'no counter' : `tcc ${f.tcc} (${f.tcc_from})`;
        return `#${f.level}  ${f.pc} in ${f.function}${f.insn !== null ? ` insn ${f.insn}` : ' (prologue)'}${chain}, stack_depth ${f.stack_depth}, rbp ${f.rbp}, ${tcc}${f.source ? `  at ${f.source}` : ''}`;
      }).join('\n');
    case 'registers':
      return o.registers.map((r) => `${(r.bpf ? `${r.bpf} (${r.name})` : r.name).padEnd(11)} ${r.value}`).join('\n');
    case 'memory': {
      const per = Math.max(1, Math.floor(16 / o.unit));
      const lines: string[] = [];
      for (let i = 0; i < o.values.length; i += per) {
        const a = BigInt(o.address) + BigInt(i * o.unit);
        lines.push(`${hex(a)}:  ${o.values.slice(i, i + per).join('  ')}`);
      }
      return lines.join('\n');
    }
    case 'value': return `${o.expr} = ${o.decimal} (${o.value})${o.note ? `  ${o.note}` : ''}`;
    case 'listing': return o.insns.flatMap((l) => listingText(l, o.pc ?? undefined)).join('\n');
    case 'maps':
      return o.maps.map((m) => `${m.name}: ${m.kind}, key ${m.key_size}, value ${m.value_size}, max_entries ${m.max_entries}, struct bpf_map at ${m.address}`).join('\n') || 'no maps';
    case 'slots': return o.slots.map((s, i) => `${o.map}[${i}] = ${s ?? '(empty)'}`).join('\n');
    case 'globals': {
      const names = Object.keys(o.globals);
      return names.length ? names.map((n) => `${n} = ${JSON.stringify(o.globals[n], (_k, v) => (typeof v === 'bigint' ? `\u0000${v}` : v)).replace(/"\\u0000(-?\d+)"/g, '$1')}`).join('\n') : 'no globals';
    }
    case 'message': return o.text;
    case 'error': return `error: ${o.message}`;
  }
}
