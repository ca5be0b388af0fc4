// Runs conformance `.data` files (../shared/conformance) in-process against a backend: the
// reference interpreter here, the emulated JIT in emu/. One file, one `CaseResult`.

import { readFileSync } from 'node:fs';
import { TailjitError } from '../errors.js';
import type { Insn } from '../isa/insn.js';

/** A test ready to run: the program, its input memory and what it must return. */
export interface ConformanceCase {
  readonly file: string;
  readonly name: string;
  readonly insns: readonly Insn[];
  /** `-- mem`: r1 points at it, r2 holds its length; empty when the file has none. */
  readonly mem: Uint8Array;
  /** `-- result`: the expected 64-bit r0. */
  readonly expected: bigint;
  /** `-- error`: the runtime must refuse or fail the program with this text. */
  readonly expectedError?: string;
}

export type BackendOutcome =
  | { readonly kind: 'returned'; readonly r0: bigint }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'skipped'; readonly reason: string };

export interface Backend {
  readonly name: string;
  run(c: ConformanceCase): BackendOutcome;
}

export type CaseResult =
  | { readonly file: string; readonly name: string; readonly status: 'passed'; readonly r0?: bigint; readonly ms: number }
  | { readonly file: string; readonly name: string; readonly status: 'failed'; readonly reason: string; readonly r0?: bigint; readonly ms: number }
  | { readonly file: string; readonly name: string; readonly status: 'skipped'; readonly reason: string; readonly ms: number };

/** Turns a file into a case, or a skip with its reason. Throws TailjitError on malformed input. */
export type CaseLoader = (file: string, text: string) => ConformanceCase | { skip: string };

export function runCase(backend: Backend, c: ConformanceCase): CaseResult {
  const t0 = performance.now();
  const base = { file: c.file, name: c.name };
  const outcome = backend.run(c);
  const ms = performance.now() - t0;
  switch (outcome.kind) {
    case 'skipped':
      return { ...base, status: 'skipped', reason: outcome.reason, ms };
    case 'error':
      if (c.expectedError !== undefined) {
        return outcome.message.trimEnd() === c.expectedError.trimEnd()
          ? { ...base, status: 'passed', ms }
          : { ...base, status: 'failed', reason: `expected error '${c.expectedError}', got '${outcome.message}'`, ms };
      }
      return { ...base, status: 'failed', reason: outcome.message, ms };
    case 'returned': {
      if (c.expectedError !== undefined) {
        return { ...base, status: 'failed', reason: `expected error '${c.expectedError}', returned 0x${outcome.r0.toString(16)}`, r0: outcome.r0, ms };
      }
      const r0 = BigInt.asUintN(64, outcome.r0);
      const want = BigInt.asUintN(64, c.expected);
      return r0 === want
        ? { ...base, status: 'passed', r0, ms }
        : { ...base, status: 'failed', reason: `r0 is 0x${r0.toString(16)}, expected 0x${want.toString(16)}`, r0, ms };
    }
  }
}

export function runFile(backend: Backend, load: CaseLoader, file: string, name: string): CaseResult {
  const t0 = performance.now();
  let c: ConformanceCase | { skip: string };
  try {
    c = load(file, readFileSync(file, 'utf8'));
  } catch (e) {
    const ms = performance.now() - t0;
    const reason = e instanceof TailjitError ? e.format() : `cannot read: ${(e as Error).message}`;
    return { file, name, status: 'failed', reason, ms };
  }
  if ('skip' in c) return { file, name, status: 'skipped', reason: c.skip, ms: performance.now() - t0 };
  return runCase(backend, c);
}

export interface Summary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

export function summarize(results: readonly CaseResult[]): Summary {
  let passed = 0, failed = 0, skipped = 0;
  for (const r of results) {
    if (r.status === 'passed') passed++;
    else if (r.status === 'failed') failed++;
    else skipped++;
  }
  return { passed, failed, skipped };
}

export const formatSummary = (s: Summary): string => `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
