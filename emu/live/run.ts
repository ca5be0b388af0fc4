// `tailjit run --backend kernel`: one program run by the running kernel, answered in
// emu/run.ts's report (the same keys; what only the emulator observes, `trace` and `pokes`'
// text patches, is null or empty). An object is loaded as koracle loads it, `--set` fills
// slots, and the program runs as BPF_PROG_TEST_RUN with a zeroed packet or the given frame.
// Assembly and .data files run as the conformance backend runs them: the program as a bpf2bpf
// subprogram of a wrapper that points r1 at the memory, sets r2 and keeps the full r0.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadObject, toHex, type GlobalValue } from '../../src/elf/index.js';
import { firstLoaded, isDataFile, isElf, readAsm, RunCommandError, type RunReportHead, type SlotAssignment } from '../run.js';
import { kernelRelease } from './bpf.js';
import { runWrapped } from './conformance.js';
import { LiveObject } from './object.js';

export interface LiveRunFileOptions {
  readonly prog?: string;
  readonly set?: readonly SlotAssignment[];
  readonly dataSize?: number;
  /** The frame (ELF) or the raw memory (assembly). */
  readonly ctx?: Uint8Array;
  readonly repeat?: number;
  readonly version?: string;
}

export interface LiveRunReport extends RunReportHead {
  readonly pokes: { map: string; slot: number; prog: string }[];
  readonly run: {
    prog: string; repeat: number; data_size: number; retval: number; r0: string; duration_ns: number;
    printk: string[]; trace: null; error: null; globals: Record<string, GlobalValue>; sections: Record<string, string>;
  };
}


export function runFileLive(file: string, options: LiveRunFileOptions = {}): LiveRunReport {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new RunCommandError('run.io', `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  const head = {
    tailjit: options.version ?? 'dev', file,
    kernel: { profile: 'kernel', release: kernelRelease(), machine: 'x86_64' },
  };
  const t0 = performance.now();
  if (!isElf(bytes)) {
    const text = Buffer.from(bytes).toString('utf8');
    const { insns, mem } = readAsm(file, text, isDataFile(text));
    const prog = options.prog ?? basename(file).replace(/\.[^.]*$/, '');
    if (options.set?.length) throw new RunCommandError('run.bad-set', '--set needs an object with prog arrays; assembly has no maps');
    const raw = options.ctx ?? mem ?? new Uint8Array(options.dataSize ?? 0);
    const r = runWrapped(prog, insns, raw, options.repeat ?? 1);
    return {
      ...head, kind: 'asm', prog, setup_ms: round(performance.now() - t0), load_errors: [], pokes: [],
      run: {
        prog, repeat: options.repeat ?? 1, data_size: raw.length, retval: Number(BigInt.asUintN(32, r.r0)), r0: `0x${r.r0.toString(16)}`,
        duration_ns: r.duration_ns, printk: [], trace: null, error: null, globals: {}, sections: {},
      },
      program: {
        name: prog, section: null, type: 'socket_filter', xlated_insn_count: r.info.xlated.length / 8, jited_len: r.info.jited.length,
        jited_func_lens: r.info.funcLens, jited_ksyms: r.info.ksyms.map((a) => `0x${a.toString(16)}`), stack_depths: [], tail_call_reachable: [],
        map_ids: r.info.mapIds, xlated_hex: toHex(r.info.xlated), jited_hex: toHex(r.info.jited),
      },
    };
  }
  const live = LiveObject.load(loadObject(bytes, file));
  try {
    const prog = options.prog ?? firstLoaded(live, file);
    for (const s of options.set ?? []) live.updateSlot(s.map, s.slot, s.prog);
    const setupMs = performance.now() - t0;
    const dataSize = options.ctx ? options.ctx.length : options.dataSize ?? 64;
    const r = live.run(prog, { ...(options.ctx ? { data: options.ctx } : { dataSize }), repeat: options.repeat ?? 1 });
    const g = live.globals();
    return {
      ...head, kind: 'elf', prog, setup_ms: round(setupMs),
      load_errors: [...live.failures].map(([p, e]) => ({ prog: p, code: e.code, message: e.message })),
      pokes: (options.set ?? []).map((s) => ({ ...s })),
      run: {
        prog, repeat: options.repeat ?? 1, data_size: dataSize, retval: r.retval, r0: `0x${r.retval.toString(16)}`,
        duration_ns: r.duration_ns, printk: [], trace: null, error: null, globals: g.globals, sections: g.sections,
      },
      program: live.programInfo(prog),
    };
  } finally {
    live.close();
  }
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The report as text: the run's line, what did not load, the slots set, the globals. */
export function formatLiveRunReport(r: LiveRunReport): string {
  const run = r.run;
  const per = run.repeat > 1 ? ` (${run.repeat} runs)` : '';
  const lines = [`${r.prog}: retval ${run.retval} (r0 ${run.r0})${per}, ${(run.duration_ns / 1000).toFixed(1)} us per run on Linux ${r.kernel.release}, set-up ${r.setup_ms.toFixed(1)} ms`];
  for (const e of r.load_errors) lines.push(`not loaded: ${e.prog}: ${e.message}`);
  for (const p of r.pokes) lines.push(`set ${p.map}[${p.slot}] = ${p.prog}`);
  lines.push(`program ${r.program.name}: ${r.program.xlated_insn_count} xlated instructions, ${r.program.jited_len} bytes of x86 in ${r.program.jited_func_lens.length} function(s)`);
  const globals = Object.entries(run.globals);
  if (globals.length) lines.push(`globals: ${globals.map(([k, v]) => `${k}=${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number.isSafeInteger(Number(x)) ? Number(x) : x.toString() : x))}`).join(' ')}`);
  return lines.join('\n') + '\n';
}
