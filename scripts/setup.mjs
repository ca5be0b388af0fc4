#!/usr/bin/env node
// Everything tailjit needs on a fresh machine, checked and (where it can be) installed:
// Node >= 20, the npm packages, Debian's libunicorn2, and the compiled TypeScript in dist/.
// Runs before `npm run demo` and `npm test`; quiet when there is nothing to do.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIsStale, markBuilt } from './build-stamp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (msg) => process.stderr.write(`setup: ${msg}\n`);

function fail(msg) {
  say(`error: ${msg}`);
  process.exit(1);
}

function run(cmd, args, what) {
  say(`${what}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) fail(`${what} failed: ${r.error.message}`);
  if (r.status !== 0) fail(`${what} failed (exit status ${r.status})`);
}

function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) fail(`Node.js ${process.versions.node} is too old: tailjit needs Node.js 20 or later`);
}

function mtime(p) {
  try { return statSync(p).mtimeMs; } catch { return 0; }
}

function checkPackages() {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules', '.package-lock.json');
  const needed = ['koffi', 'iced-x86', 'vitest', 'typescript'];
  const missing = needed.filter((p) => !existsSync(join(root, 'node_modules', p, 'package.json')));
  if (missing.length === 0 && mtime(stamp) >= mtime(lock)) return;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(npm, existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'],
    `installing npm packages${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`);
}

async function checkUnicorn() {
  const { ensureUnicorn } = await import('./check-unicorn.mjs');
  const r = await ensureUnicorn({ log: say });
  if (!r.ok) fail(r.message);
}

/** Tools the tests use (gdb for the GDB-stub tests); their absence makes those tests skip, with a note. */
function checkTestTools() {
  for (const [cmd, pkg] of [['gdb', 'gdb']]) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0) continue;
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
    if (!isRoot || !apt) {
      say(`note: ${cmd} is missing (Debian package ${pkg}); the tests that drive it will be skipped`);
      continue;
    }
    say(`installing ${pkg} for the tests that drive it`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'inherit', 'inherit'], env });
      r = spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: ['ignore', 'inherit', 'inherit'], env });
    }
    if (r.status !== 0) say(`note: could not install ${pkg}; the tests that drive ${cmd} will be skipped`);
  }
}

function checkBuild() {
  if (!buildIsStale(root)) return;
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], 'compiling TypeScript');
  markBuilt(root);
}

checkNode();
checkPackages();
await checkUnicorn();
if (process.env.npm_lifecycle_event === 'pretest') checkTestTools();
checkBuild();
