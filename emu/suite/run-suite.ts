// Runs the planned work in this thread (jobs 1) or in worker threads, one work item per message,
// and gives back the outcomes in plan order whatever order they finished in. The workers load
// the compiled worker.js: beside this file when it is compiled, else dist/'s copy (under vitest,
// which runs the .ts sources); with neither the suite runs in this thread.

import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runWorkItem } from './run-item.js';
import type { CaseOutcome, WorkItem } from './types.js';

export interface SuiteRunOptions {
  readonly jobs?: number;
  /** Stop starting files after the first failed case. */
  readonly bail?: boolean;
  /** Called as each file finishes (progress). */
  readonly onItem?: (done: number, total: number, outcomes: readonly CaseOutcome[]) => void;
}

/** The compiled worker script, or undefined when there is none to start. */
export function workerScript(): URL | undefined {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./worker.js', import.meta.url);
  const dist = here.replace(/([\\/])emu([\\/])suite([\\/])run-suite\.ts$/, '$1dist$2emu$2suite$3worker.js');
  return dist !== here && existsSync(dist) ? pathToFileURL(dist) : undefined;
}

export async function runSuite(items: readonly WorkItem[], options: SuiteRunOptions = {}): Promise<CaseOutcome[]> {
  const jobs = Math.max(1, Math.min(options.jobs ?? 1, items.length));
  const script = jobs > 1 ? workerScript() : undefined;
  const results: (CaseOutcome[] | undefined)[] = new Array(items.length);
  let done = 0;
  const finish = (i: number, outcomes: CaseOutcome[]): boolean => {
    results[i] = outcomes;
    options.onItem?.(++done, items.length, outcomes);
    return Boolean(options.bail) && outcomes.some((o) => o.status === 'failed');
  };
  if (!script) {
    for (let i = 0; i < items.length; i++) {
      if (finish(i, runWorkItem(items[i]))) break;
    }
  } else {
    await runInWorkers(items, jobs, script, finish);
  }
  return results.flatMap((r) => r ?? []);
}

async function runInWorkers(items: readonly WorkItem[], jobs: number, script: URL, finish: (i: number, o: CaseOutcome[]) => boolean): Promise<void> {
  let next = 0;
  let stop = false;
  const one = (): Promise<void> => new Promise((resolveAll, reject) => {
    const worker = new Worker(script);
    let current = -1;
    const send = (): void => {
      if (stop || next >= items.length) {
        void worker.terminate().then(() => resolveAll());
        return;
      }
      current = next++;
      worker.postMessage(items[current]);
    };
    worker.on('message', (m: { outcomes?: CaseOutcome[]; error?: string }) => {
      if (m.error !== undefined) {
        stop = true;
        void worker.terminate();
        reject(new Error(`${items[current].shown} [${items[current].profile}]: ${m.error}`));
        return;
      }
      if (finish(current, m.outcomes ?? [])) stop = true;
      send();
    });
    worker.on('error', (e) => { stop = true; reject(e); });
    send();
  });
  await Promise.all(Array.from({ length: jobs }, one));
}
