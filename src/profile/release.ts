// Which modeled profile stands for a running kernel, from its `uname -r`: the mapping
// `tailjit diff` uses to hold the emulated kernel against the live one. A release between the
// modeled ones has no profile: its tail call and JIT rules may be either side's.

import { TailjitError } from '../errors.js';
import { getProfile, type Profile } from './index.js';

export class ProfileError extends TailjitError {}

/**
 * `6.18.44-fc-v669` -> linux-6.18 (6.12 and later: the counter shared through a pointer, as
 * 6.18 models it), `6.1.x` -> linux-6.1, `5.10.x` -> linux-5.10; any other release is an error.
 */
export function profileForKernelRelease(release: string): Profile {
  const m = /^(\d+)\.(\d+)(?:[.\-+~_]|$)/.exec(release.trim());
  if (!m) throw new ProfileError('profile.release', `"${release}" is not a kernel release (expected e.g. 6.1.192)`);
  const major = Number(m[1]), minor = Number(m[2]);
  if (major > 6 || (major === 6 && minor >= 12)) return getProfile('linux-6.18');
  if (major === 6 && minor === 1) return getProfile('linux-6.1');
  if (major === 5 && minor === 10) return getProfile('linux-5.10');
  throw new ProfileError('profile.release', `no modeled profile for Linux ${major}.${minor} (${release}): tailjit models 5.10.x (linux-5.10), 6.1.x (linux-6.1) and 6.12 or later (linux-6.18)`);
}
