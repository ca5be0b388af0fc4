// Kernel behaviour that changed between releases, one frozen object per kernel. Code asks a
// profile a named question (`profile.tailCall.emptySlotCounts`) and never compares versions.
// Later layers (the verifier, the JIT, the harness) add their own sections here.

import type { Release } from '../isa/table.js';

export interface TailCallSemantics {
  /** MAX_TAIL_CALL_CNT: tail calls allowed in one chain (33 on every profile here). */
  readonly limit: number;
  /**
   * 5.10/6.1: a bpf2bpf call copies the caller's count into the callee, whose tail calls never
   * update the caller's count. 6.12+: one counter per run shared through a pointer.
   */
  readonly counter: 'by-value' | 'shared';
  /** 5.10/6.1 increment before the slot is checked: a call into an empty slot still counts. */
  readonly emptySlotCounts: boolean;
}

export interface Profile {
  readonly name: ProfileName;
  /** The release it models, for checks of what an instruction needs. */
  readonly release: Release;
  /** As a kernel reports it, for result documents. */
  readonly releaseString: string;
  readonly tailCall: TailCallSemantics;
}

export type ProfileName = 'linux-5.10' | 'linux-6.18';

const linux510: Profile = Object.freeze({
  name: 'linux-5.10',
  release: [5, 10] as const,
  releaseString: '5.10.223 (modeled)',
  tailCall: Object.freeze({ limit: 33, counter: 'by-value', emptySlotCounts: true }),
});

const linux618: Profile = Object.freeze({
  name: 'linux-6.18',
  release: [6, 18] as const,
  releaseString: '6.18 (modeled)',
  tailCall: Object.freeze({ limit: 33, counter: 'shared', emptySlotCounts: false }),
});

export const PROFILES: Readonly<Record<ProfileName, Profile>> = Object.freeze({
  'linux-5.10': linux510,
  'linux-6.18': linux618,
});

export const DEFAULT_PROFILE: ProfileName = 'linux-5.10';

export function isProfileName(s: string): s is ProfileName {
  return Object.prototype.hasOwnProperty.call(PROFILES, s);
}

export function getProfile(name: string): Profile {
  if (!isProfileName(name)) {
    throw new Error(`unknown profile '${name}' (known: ${Object.keys(PROFILES).join(', ')})`);
  }
  return PROFILES[name];
}
