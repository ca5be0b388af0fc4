// Programs for the harness tests, written in the conformance suite's assembly: ELF-like objects
// (for the verifier and the whole load path) and raw VerifiedPrograms for deliberately broken
// programs the verifier would refuse (recursion, endless loops).

import { assembleProgram } from '../../src/asm/index.js';
import { MapType, type MapSpec, type ObjectFile, type ProgramSpec, type ProgTypeName } from '../../src/elf/types.js';
import { Layout } from '../../src/isa/index.js';
import type { VerifiedProgram } from '../../src/verifier/types.js';
import { conformanceProgram } from '../../emu/conformance-backend.js';
import type { Machine } from '../../emu/harness/index.js';

export const progArray = (name: string, maxEntries: number): MapSpec => ({ name, type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries, flags: 0 });

/** A program from assembly; `subprogs` are labels where functions start (BTF func_info). */
export function asmProgram(name: string, text: string, subprogs: string[] = [], type: ProgTypeName = 'sched_cls'): ProgramSpec {
  const a = assembleProgram(text);
  return {
    name, section: 'tc', type, insns: a.insns,
    funcs: [{ name, insnOff: 0, typeId: 0 }, ...subprogs.map((l) => ({ name: l, insnOff: a.labels.get(l)!, typeId: 0 }))],
    lineInfo: [], license: 'GPL',
  };
}

export function asmObject(maps: MapSpec[], ...programs: ProgramSpec[]): ObjectFile {
  return { programs, maps };
}

/** A program that skips the verifier (functions split at `call local` targets, 512-byte frames). */
export function rawProgram(machine: Machine, name: string, text: string, stackDepth?: number): VerifiedProgram {
  const vp = conformanceProgram(name, assembleProgram(text).insns, machine);
  if (stackDepth === undefined) return vp;
  return { ...vp, funcs: vp.funcs.map((f) => ({ ...f, stackDepth })) };
}

/** Slots of a program, for building by hand. */
export const slots = (vp: VerifiedProgram): number => new Layout(vp.insns).slots;

/**
 * tailcalls.md §3.3: `entry` (64-byte stack, r6) calls `hop()`, which tail-calls slot 0 (set to
 * `entry` itself); every level adds 1 to what the innermost hop returns (1000).
 */
export const RECURSE_THROUGH_SUB = asmObject(
  [progArray('jmp_table', 1)],
  asmProgram('entry', `
    mov %r6, %r1
    stdw [%r10-64], 0
    mov %r1, %r6
    call local hop
    add %r0, 1
    exit
  hop:
    lddw_map_fd %r2, 0
    mov %r3, 0
    call 12
    mov %r0, 1000
    exit`, ['hop']),
);
