#!/usr/bin/env node
// Makes sure libunicorn.so.2 (unicorn engine 2, Debian package libunicorn2) can be loaded.
// Plain Node, no dependencies: koffi is used for the check when it is installed, else the
// dynamic linker's cache (ldconfig -p) is asked. When the library is missing and we are root
// with apt-get, it installs libunicorn2 (running apt-get update first if apt does not know the
// package yet); otherwise it says what to install.
//
//   node scripts/check-unicorn.mjs      exit 0 when loadable, 1 with a message otherwise
//   import { ensureUnicorn } from './check-unicorn.mjs'   -> { ok, message }

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const LIBRARY = 'libunicorn.so.2';
const PACKAGE = 'libunicorn2';

/** { ok: true, how } when the library loads, else { ok: false, reason }. */
export function canLoadUnicorn(library = LIBRARY) {
  let koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi');
  } catch {
    koffi = undefined;
  }
  if (koffi) {
    try {
      const lib = koffi.load(library);
      if (library !== LIBRARY) return { ok: true, how: 'koffi' };
      const version = lib.func('unsigned int uc_version(void *major, void *minor)')(null, null);
      return { ok: true, how: `koffi, uc_version 0x${version.toString(16)}` };
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message : String(e) };
    }
  }
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const r = spawnSync(ldconfig, ['-p'], { encoding: 'utf8' });
    if (r.status === 0) {
      return r.stdout.includes(library)
        ? { ok: true, how: 'ldconfig cache' }
        : { ok: false, reason: `${library} is not in the ldconfig cache` };
    }
  }
  return { ok: false, reason: 'neither koffi nor ldconfig is available to check' };
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd, args, log) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

/** apt knows a candidate version of the package (else its lists need an update). */
function aptKnows(pkg) {
  const r = spawnSync('apt-cache', ['policy', pkg], { encoding: 'utf8' });
  return r.status === 0 && /Candidate:\s*(?!\(none\))\S+/.test(r.stdout);
}

/**
 * Check, and install through apt-get when possible. Returns { ok, message }; never throws.
 * `install: false` only reports; `library` overrides the soname (for tests of the failure path).
 * @param {{ log?: (line: string) => void, install?: boolean, library?: string }} [options]
 */
export function ensureUnicorn(options = {}) {
  const log = options.log ?? ((line) => console.error(line));
  const library = options.library ?? LIBRARY;
  const first = canLoadUnicorn(library);
  if (first.ok) return { ok: true, message: `${library} loads (${first.how})` };

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (options.install === false || !isRoot || !hasCommand('apt-get')) {
    const how = hasCommand('apt-get') ? `it with: sudo apt-get install -y ${PACKAGE}` : `the unicorn engine 2 shared library (${LIBRARY}, Debian/Ubuntu package ${PACKAGE})`;
    return { ok: false, message: `${library} cannot be loaded: ${first.reason}\ninstall ${how}` };
  }

  log(`${library} cannot be loaded (${first.reason}); installing ${PACKAGE}`);
  if (!aptKnows(PACKAGE) && !run('apt-get', ['update'], log)) {
    return { ok: false, message: `apt-get update failed; install ${PACKAGE} by hand` };
  }
  if (!run('apt-get', ['install', '-y', PACKAGE], log)) {
    return { ok: false, message: `apt-get install -y ${PACKAGE} failed` };
  }
  const second = canLoadUnicorn(library);
  return second.ok
    ? { ok: true, message: `installed ${PACKAGE}; ${library} loads (${second.how})` }
    : { ok: false, message: `installed ${PACKAGE} but ${library} still cannot be loaded: ${second.reason}` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = ensureUnicorn();
  (result.ok ? console.log : console.error)(result.message);
  process.exit(result.ok ? 0 : 1);
}
