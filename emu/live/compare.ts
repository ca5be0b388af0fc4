// Two answers for one scenario (the modeled kernel's and the running kernel's, or two runs of
// the running kernel) compared the way koracle's README says they can be: return values and
// globals run by run, xlated instructions modulo map ids, JIT bytes modulo the absolute
// addresses in them (map and global-data addresses loaded with movabs, kernel addresses in
// immediates, and the rel32 of calls and jumps that leave the function: helpers, subprograms,
// direct tail-call targets).

import { addressByteOffsets, isKernelAddress } from '../harness/x86.js';
import { globalText } from '../suite/golden.js';
import type { ScenarioProgram, ScenarioResult, ScenarioRun } from '../scenario.js';

/** The masked bytes are written as this (no real instruction stream is made of it). */
const MASK = '..';

const hexBytes = (hex: string): string[] => hex.match(/../g) ?? [];

/**
 * A JIT image's bytes (hex, every function back to back) with its addresses masked, one hex
 * pair per byte and `..` for each masked byte; each function is decoded at its own address.
 */
export function maskJited(hex: string, funcLens: readonly number[], ksyms: readonly string[]): string[][] {
  const bytes = Uint8Array.from(hexBytes(hex), (h) => parseInt(h, 16));
  const out: string[][] = [];
  let at = 0;
  const lens = funcLens.length ? funcLens : [bytes.length];
  lens.forEach((len, i) => {
    const image = bytes.subarray(at, at + len);
    at += len;
    const start = ksyms[i] !== undefined ? BigInt(ksyms[i]) : 0n;
    out.push(maskFunction(image, start));
  });
  return out;
}

function maskFunction(image: Uint8Array, start: bigint): string[] {
  const masked = addressByteOffsets(image, start);
  return Array.from(image, (b, k) => (masked.has(k) ? MASK : b.toString(16).padStart(2, '0')));
}

const isAddressOffset = (slot: string[]): boolean => {
  const imm = parseInt(slot.slice(4, 8).reverse().join(''), 16) | 0;
  return imm < 0 || imm > 0xffff;
};

/**
 * xlated instructions (hex), one slot each, with the map ids of map loads (src 1 and 2), helper
 * calls' address offsets and 64-bit constants that are kernel addresses masked.
 */
export function maskXlated(hex: string): string[] {
  const b = hexBytes(hex);
  const out: string[] = [];
  for (let i = 0; i + 8 <= b.length; i += 8) {
    const slot = b.slice(i, i + 8);
    const src = parseInt(slot[1], 16) >> 4;
    if (slot[0] === '18' && (src === 1 || src === 2)) slot.fill(MASK, 4, 8);
    // A helper call's imm is the helper's address less __bpf_call_base (raw dump as root);
    // helper ids (tail calls show `call 12`) are small.
    if (slot[0] === '85' && src === 0 && isAddressOffset(slot)) slot.fill(MASK, 4, 8);
    if (slot[0] === '18' && i + 16 <= b.length) {
      const hi = b.slice(i + 8, i + 16);
      // A constant that is a kernel address (bpf_jiffies64's &jiffies): masked like movabs.
      const value = BigInt(`0x${[...hi.slice(4, 8)].reverse().join('')}${[...b.slice(i + 4, i + 8)].reverse().join('')}`);
      if (src === 0 && isKernelAddress(value)) { slot.fill(MASK, 4, 8); hi.fill(MASK, 4, 8); }
      out.push(slot.join(''), hi.join(''));
      i += 8;
      continue;
    }
    out.push(slot.join(''));
  }
  return out;
}

export interface Difference {
  readonly kind: 'load' | 'run' | 'retval' | 'global' | 'xlated' | 'jited' | 'program';
  /** `step 3 (run entry)`, `program entry`, `program entry, function 1 at +0x1c`. */
  readonly where: string;
  readonly message: string;
}

export interface CompareOptions {
  /** What to call the two sides (default `a`, `b`). */
  readonly names?: readonly [string, string];
  /** Compare xlated instructions (default true). */
  readonly xlated?: boolean;
}

/** Every difference between two results of the same scenario. */
export function compareResults(a: ScenarioResult, b: ScenarioResult, opts: CompareOptions = {}): Difference[] {
  const [na, nb] = opts.names ?? ['a', 'b'];
  const out: Difference[] = [];
  const aFail = new Map(a.load_errors.map((e) => [e.prog, e.message]));
  const bFail = new Map(b.load_errors.map((e) => [e.prog, e.message]));
  for (const prog of new Set([...aFail.keys(), ...bFail.keys()])) {
    const fa = aFail.get(prog), fb = bFail.get(prog);
    if (fa !== undefined && fb === undefined) out.push({ kind: 'load', where: `program ${prog}`, message: `${na} did not load it (${fa}); ${nb} did` });
    if (fb !== undefined && fa === undefined) out.push({ kind: 'load', where: `program ${prog}`, message: `${nb} did not load it (${fb}); ${na} did` });
  }
  const bRuns = new Map(b.runs.map((r) => [r.step, r]));
  for (const ra of a.runs) {
    const rb = bRuns.get(ra.step);
    const where = `step ${ra.step} (run ${ra.prog})`;
    if (!rb) { out.push({ kind: 'run', where, message: `${nb} has no run for this step` }); continue; }
    bRuns.delete(ra.step);
    out.push(...compareRun(ra, rb, where, na, nb));
  }
  for (const rb of bRuns.values()) out.push({ kind: 'run', where: `step ${rb.step} (run ${rb.prog})`, message: `${na} has no run for this step` });
  const bProgs = new Map(b.programs.map((p) => [p.name, p]));
  for (const pa of a.programs) {
    const pb = bProgs.get(pa.name);
    if (!pb) continue; // a load difference, reported above
    out.push(...compareProgram(pa, pb, na, nb, opts.xlated ?? true));
  }
  out.push(...compareSnapshots(a, b, na, nb));
  return out;
}

/** Snapshot images step by step, each function masked at the address `programs` gives it. */
function compareSnapshots(a: ScenarioResult, b: ScenarioResult, na: string, nb: string): Difference[] {
  const out: Difference[] = [];
  const layout = (r: ScenarioResult) => new Map(r.programs.map((p) => [p.name, p]));
  const la = layout(a), lb = layout(b);
  const bSnaps = new Map((b.snapshots ?? []).map((s) => [s.step, s]));
  for (const sa of a.snapshots ?? []) {
    const sb = bSnaps.get(sa.step);
    const where = `step ${sa.step} (snapshot)`;
    if (!sb) { out.push({ kind: 'run', where, message: `${nb} has no snapshot for this step` }); continue; }
    const imagesB = new Map(sb.programs.map((p) => [p.name, p.jited_hex]));
    for (const pa of sa.programs) {
      const hb = imagesB.get(pa.name);
      const pla = la.get(pa.name), plb = lb.get(pa.name);
      if (hb === undefined || !pla || !plb) continue; // a load difference, reported with the programs
      const ja = maskJited(pa.jited_hex, pla.jited_func_lens, pla.jited_ksyms);
      const jb = maskJited(hb, plb.jited_func_lens, plb.jited_ksyms);
      ja.forEach((fa, f) => {
        const fb = jb[f] ?? [];
        const first = firstDifference(fa, fb);
        if (first >= 0) out.push({ kind: 'jited', where: `${where}, program ${pa.name}, function ${f} at +0x${first.toString(16)}`, message: `${na} ${context(fa, first)}, ${nb} ${context(fb, first)}` });
      });
    }
  }
  return out;
}

const firstDifference = (fa: readonly string[], fb: readonly string[]): number => {
  for (let i = 0; i < Math.max(fa.length, fb.length); i++) if (fa[i] !== fb[i]) return i;
  return -1;
};
const context = (x: readonly string[], at: number): string => x.slice(at, at + 8).join(' ') || '(end)';

function compareRun(ra: ScenarioRun, rb: ScenarioRun, where: string, na: string, nb: string): Difference[] {
  const out: Difference[] = [];
  const ea = ra.error?.kind === 'load', eb = rb.error?.kind === 'load';
  if (ea || eb) {
    if (ea !== eb) out.push({ kind: 'run', where, message: ea ? `${na} could not run it (not loaded); ${nb} returned ${rb.retval}` : `${nb} could not run it (not loaded); ${na} returned ${ra.retval}` });
    return out;
  }
  if (ra.retval !== rb.retval) {
    const why = (r: ScenarioRun) => (r.error ? ` (${r.error.kind}: ${r.error.message})` : '');
    out.push({ kind: 'retval', where, message: `${na} ${ra.retval ?? 'none'}${why(ra)}, ${nb} ${rb.retval ?? 'none'}${why(rb)}` });
  }
  for (const k of new Set([...Object.keys(ra.globals), ...Object.keys(rb.globals)])) {
    const ga = k in ra.globals ? globalText(ra.globals[k]) : '(absent)';
    const gb = k in rb.globals ? globalText(rb.globals[k]) : '(absent)';
    if (ga !== gb) out.push({ kind: 'global', where, message: `${k}: ${na} ${ga}, ${nb} ${gb}` });
  }
  return out;
}

/** The programs' xlated and JIT bytes, modulo map ids and addresses. */
export function compareProgram(pa: ScenarioProgram, pb: ScenarioProgram, na = 'a', nb = 'b', xlated = true): Difference[] {
  const out: Difference[] = [];
  const where = `program ${pa.name}`;
  if (xlated) {
    const xa = maskXlated(pa.xlated_hex), xb = maskXlated(pb.xlated_hex);
    const n = Math.max(xa.length, xb.length);
    const firsts: string[] = [];
    for (let i = 0; i < n; i++) if (xa[i] !== xb[i]) firsts.push(`slot ${i}: ${na} ${xa[i] ?? '(none)'}, ${nb} ${xb[i] ?? '(none)'}`);
    if (xa.length !== xb.length || firsts.length) {
      out.push({ kind: 'xlated', where, message: `${xa.length} vs ${xb.length} instructions, ${firsts.length} differ${firsts.length ? `; first ${firsts[0]}` : ''}` });
    }
  }
  // The verifier's stack depths ("stack depth 16+8" on the kernel), when both sides know them.
  if (pa.stack_depths.length && pb.stack_depths.length && pa.stack_depths.join('+') !== pb.stack_depths.join('+')) {
    out.push({ kind: 'program', where, message: `stack depths ${na} ${pa.stack_depths.join('+')}, ${nb} ${pb.stack_depths.join('+')}` });
  }
  if (pa.jited_func_lens.join(',') !== pb.jited_func_lens.join(',')) {
    out.push({ kind: 'jited', where, message: `function lengths ${na} [${pa.jited_func_lens.join(', ')}], ${nb} [${pb.jited_func_lens.join(', ')}]` });
  }
  const ja = maskJited(pa.jited_hex, pa.jited_func_lens, pa.jited_ksyms);
  const jb = maskJited(pb.jited_hex, pb.jited_func_lens, pb.jited_ksyms);
  for (let f = 0; f < Math.max(ja.length, jb.length); f++) {
    const fa = ja[f] ?? [], fb = jb[f] ?? [];
    const first = firstDifference(fa, fb);
    if (first < 0) continue;
    out.push({ kind: 'jited', where: `${where}, function ${f} at +0x${first.toString(16)}`, message: `${na} ${context(fa, first)}, ${nb} ${context(fb, first)}` });
  }
  return out;
}
