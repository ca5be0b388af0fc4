// Whether dist/ is older than the TypeScript it is compiled from. Shared by the set-up script and
// the `tailjit` bin, which rebuilds before running stale code.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE_DIRS = ['src', 'emu', 'cli', 'bench'];

function mtime(p) {
  try { return statSync(p).mtimeMs; } catch { return 0; }
}

function newestSource(dir) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, mtime(p));
  }
  return newest;
}

export function buildIsStale(root) {
  const stamp = join(root, 'dist', '.build-stamp');
  const newest = Math.max(...SOURCE_DIRS.map((d) => newestSource(join(root, d))), mtime(join(root, 'tsconfig.json')));
  return !existsSync(stamp) || mtime(stamp) < newest;
}

export function markBuilt(root) {
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'dist', '.build-stamp'), new Date().toISOString() + '\n');
}
