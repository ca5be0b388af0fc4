// A `tailjit test` worker thread: runs each work item it is sent and posts its outcomes back.
// An unexpected exception (a tailjit bug, not a test failure) is posted with its stack.

import { parentPort } from 'node:worker_threads';
import { runWorkItem } from './run-item.js';
import type { WorkItem } from './types.js';

parentPort?.on('message', (item: WorkItem) => {
  try {
    parentPort!.postMessage({ outcomes: runWorkItem(item) });
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error)?.stack ?? String(e) });
  }
});
