// What `tailjit test` passes between discovery, the runners (in-process or worker threads) and
// the reporters: plain data only, so it crosses a worker's message port unchanged.

export type CaseKind = 'run' | 'jit' | 'data';
export type CaseStatus = 'passed' | 'failed' | 'skipped';

/** One file on one profile, with the cases of it this shard runs. */
export interface WorkItem {
  readonly kind: 'scenario' | 'data';
  /** Absolute path. */
  readonly file: string;
  /** As shown (relative to the working directory). */
  readonly shown: string;
  readonly profile: string;
  /** Case ids to report, in file order. */
  readonly cases: readonly string[];
  /** Write missing or changed tailjit-written goldens (`*.jit.txt`). */
  readonly update: boolean;
}

export interface CaseOutcome {
  readonly id: string;
  readonly file: string;
  readonly profile: string;
  readonly kind: CaseKind;
  /** Short name within its file: `step 0: label`, `jit listing`, the .data test's name. */
  readonly name: string;
  readonly status: CaseStatus;
  /** One line: why it failed or was skipped. */
  readonly message?: string;
  /** More lines: the differences, a unified diff of a listing. */
  readonly details?: string;
  /** `--update` wrote a golden: what changed. */
  readonly updated?: string;
  readonly ms: number;
}

export interface SuiteSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly updated: number;
  readonly ms: number;
}

export function summarizeOutcomes(cases: readonly CaseOutcome[], ms: number): SuiteSummary {
  const count = (s: CaseStatus): number => cases.filter((c) => c.status === s).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), updated: cases.filter((c) => c.updated).length, ms };
}
