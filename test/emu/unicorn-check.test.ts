// scripts/check-unicorn.mjs: reports whether libunicorn.so.2 loads, and what to install when not.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain-JS script without type declarations
import { canLoadUnicorn, ensureUnicorn } from '../../scripts/check-unicorn.mjs';

const SCRIPT = fileURLToPath(new URL('../../scripts/check-unicorn.mjs', import.meta.url));

describe('check-unicorn', () => {
  it('finds the installed libunicorn.so.2 and exits 0 when run directly', () => {
    expect(canLoadUnicorn()).toMatchObject({ ok: true });
    expect(ensureUnicorn({ install: false })).toMatchObject({ ok: true });
    expect(execFileSync(process.execPath, [SCRIPT], { encoding: 'utf8' })).toMatch(/libunicorn\.so\.2 loads/);
  });

  it('says what to install when the library cannot be loaded (without installing)', () => {
    const result = ensureUnicorn({ install: false, library: 'libunicorn-missing.so.9' });
    expect(result.ok).toBe(false);
    expect(result.message).toContain('libunicorn-missing.so.9 cannot be loaded');
    expect(result.message).toContain('libunicorn2');
  });
});
