// `tailjit conformance --backend kernel`: each test's program run by the running kernel, its
// own instructions unchanged. A conformance test wants r1 = its `-- mem`, r2 = the length, and
// is judged on the full 64-bit r0, none of which BPF_PROG_TEST_RUN gives a program. So the
// test becomes a bpf2bpf subprogram of a small main program:
//
//   r1 = map_value(mem) ; r2 = len ; call test ; r1 = map_value(result) ; *(u64 *)(r1 + 0) = r0
//   r0 = 0 ; exit
//
// `mem` is a one-slot array holding the test's memory (so the verifier knows its size), and
// `result` one holding r0. The program is a socket filter; its context is never read. Whatever
// the kernel's verifier refuses is skipped with its reason, as are tests that call helper 5
// (uBPF's conformance-only "unwind": kernel helper 5 is bpf_ktime_get_ns).

import { TailjitError } from '../../src/errors.js';
import { encode, insn, type Insn } from '../../src/isa/insn.js';
import type { Backend, BackendOutcome, ConformanceCase } from '../../src/conformance/runner.js';
import { closeFd, LiveError, requireLive } from './bpf.js';
import { createArrayMap, lastLogLine, mapLookup, mapUpdate, progInfo, progLoad, testRun, type ProgInfo } from './object.js';

const LD_IMM64 = 0x18, PSEUDO_MAP_VALUE = 2, PSEUDO_CALL = 1;
const CALL = 0x85, EXIT = 0x95, MOV64_K = 0xb7, STX_DW = 0x7b;
const UNWIND_HELPER = 5;

/** The main program's instructions, with the test's first slot right after them. */
function wrapper(memFd: number, memLen: number, resultFd: number): Insn[] {
  const head = (callSlot: number): Insn[] => [
    insn(LD_IMM64, 1, PSEUDO_MAP_VALUE, 0, memFd, 0),
    insn(MOV64_K, 2, 0, 0, memLen),
    insn(CALL, 0, PSEUDO_CALL, 0, callSlot),
    insn(LD_IMM64, 1, PSEUDO_MAP_VALUE, 0, resultFd, 0),
    insn(STX_DW, 1, 0, 0, 0),
    insn(MOV64_K, 0, 0, 0, 0),
    insn(EXIT),
  ];
  // Slots: ld_imm64 (2), mov (1), then the call at slot 3; the test starts after 9 slots.
  const slots = 9;
  return head(slots - (3 + 1));
}

/** The `call local`-free reason a test cannot run here, if any. */
function skipReason(insns: readonly Insn[]): string | undefined {
  for (const i of insns) {
    if (i.code === CALL && i.src === 0 && i.imm === UNWIND_HELPER) {
      return 'calls helper 5, uBPF\'s conformance-only unwind (helper 5 of the kernel is bpf_ktime_get_ns)';
    }
  }
  return undefined;
}

export interface WrappedRun {
  /** The test program's full 64-bit r0. */
  readonly r0: bigint;
  /** The main program's retval (0) and the kernel's time per repetition. */
  readonly retval: number;
  readonly duration_ns: number;
  /** The loaded main program (with the test as its subprogram) as the kernel reports it. */
  readonly info: ProgInfo;
}

/**
 * Loads `insns` as the subprogram of the wrapper above and runs it `repeat` times with r1 at
 * `mem` and r2 = its length. A verifier refusal is thrown (LiveError 'live.rejected').
 */
export function runWrapped(name: string, insns: readonly Insn[], mem: Uint8Array, repeat = 1): WrappedRun {
  requireLive();
  const fds: number[] = [];
  try {
    const memFd = createArrayMap('conf_mem', Math.max(mem.length, 1));
    fds.push(memFd);
    const resultFd = createArrayMap('conf_r0', 8);
    fds.push(resultFd);
    if (mem.length) mapUpdate(memFd, 0, mem, 'the test\'s memory');
    const loaded = progLoad({ name, type: 'socket_filter', insns: encode([...wrapper(memFd, mem.length, resultFd), ...insns]), license: 'GPL' });
    fds.push(loaded.fd);
    const r = testRun(loaded.fd, { dataSize: 64, repeat }, name);
    const r0 = new DataView(mapLookup(resultFd, 0, 8, 'r0').buffer).getBigUint64(0, true);
    return { r0, retval: r.retval, duration_ns: r.duration_ns, info: progInfo(loaded.fd) };
  } finally {
    for (const fd of fds) closeFd(fd);
  }
}

export function liveConformanceBackend(): Backend {
  return {
    name: 'kernel',
    run(c: ConformanceCase): BackendOutcome {
      const skip = skipReason(c.insns);
      if (skip !== undefined) return { kind: 'skipped', reason: skip };
      try {
        return { kind: 'returned', r0: runWrapped('conformance', c.insns, c.mem).r0 };
      } catch (e) {
        if (e instanceof LiveError && e.code === 'live.rejected') {
          return { kind: 'skipped', reason: `the kernel's verifier refused it: ${lastLogLine(e.log) || e.message}` };
        }
        if (e instanceof LiveError && e.code === 'live.unavailable') throw e;
        if (e instanceof TailjitError) return { kind: 'error', message: e.format({ file: c.file }) };
        throw e;
      }
    },
  };
}
