// profileForKernelRelease: which modeled kernel stands for a `uname -r`. Expected values from
// the profiles' documented ranges (src/profile/release.ts: 6.12 and later share the counter
// through a pointer, tailcalls.md §9.2), and the releases the oracles ran.

import { describe, expect, test } from 'vitest';
import { profileForKernelRelease } from '../../src/profile/release.js';

describe('profileForKernelRelease', () => {
  test.each([
    ['6.18.44-fc-v669', 'linux-6.18'], // this project's host (koracle's goldens: host-6.18.44-fc-v857)
    ['6.12.0', 'linux-6.18'],
    ['7.0.1', 'linux-6.18'],
    ['6.1.192', 'linux-6.1'], // kvm-oracle's 6.1 guest
    ['6.1.0-28-amd64', 'linux-6.1'], // Debian 12's naming
    ['5.10.223', 'linux-5.10'], // kvm-oracle's 5.10 guest
    ['5.10.0-30-cloud-amd64', 'linux-5.10'],
  ])('%s -> %s', (release, name) => {
    expect(profileForKernelRelease(release).name).toBe(name);
  });

  test.each(['6.6.30', '5.15.0', '4.19.1', '6.11.9', 'banana', ''])('%s has no profile: a clear error', (release) => {
    expect(() => profileForKernelRelease(release)).toThrow(/no modeled profile|is not a kernel release/);
  });

  test('6.10 vs 6.1: the minor number is compared whole', () => {
    expect(() => profileForKernelRelease('6.10.2')).toThrow(/Linux 6\.10/);
  });
});
