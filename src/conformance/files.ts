import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TailjitError } from '../errors.js';

/** The `.data` files named by `paths` (files as given, folders searched recursively), sorted. */
export function collectDataFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, explicit: boolean): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new TailjitError('conformance.no-such-path', `no such file or folder: ${p}`, { file: p });
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e), false);
    } else if (explicit || p.endsWith('.data')) {
      out.push(p);
    }
  };
  for (const p of paths) walk(p, true);
  return out;
}
