// The README's first command. Until the emulated JIT runs scenarios, it shows the tail call
// semantics on the reference interpreter: a subprogram that tail-calls, called twice, under the
// 5.10 profile (counter by value: two chains of 33) and the 6.18 profile (one shared counter).

import { defineCommand, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS } from '../args.js';
import { ProgramBuilder } from '../../src/asm/index.js';
import { kernelListing } from '../../src/asm/index.js';
import { AluOp, BPF_FUNC_tail_call, CallSrc, Class, JmpOp, Mode, PseudoSrc, Size, Source, insn, ldImm64, type Insn } from '../../src/isa/index.js';
import { Environment, InterpProgram, progArray, runProgram, type RunStats } from '../../src/interp/index.js';
import { PROFILES, type Profile } from '../../src/profile/index.js';

const COUNTER_FD = 3;
const JMP_TABLE_FD = 4;

/**
 * `entry` and `once_prog` bump a global run counter and call `sub`, which tail-calls slot 0 of
 * `jmp_table`; `entry` calls `sub` twice (tailcalls.md §8.2, measured on 5.10.223 and 6.18).
 */
function buildProgram(name: string, subCalls: number): Insn[] {
  const counterOff = name === 'entry' ? 0 : 8; // entry_runs, once_prog_runs
  const b = new ProgramBuilder()
    .emit(insn(Class.ALU64 | AluOp.MOV | Source.X, 6, 1)) // r6 = ctx
    .emit(ldImm64(7, BigInt(COUNTER_FD), PseudoSrc.MAP_VALUE)) // r7 = &globals
    .emit(insn(Class.LDX | Mode.MEM | Size.DW, 0, 7, counterOff)) // r0 = runs
    .emit(insn(Class.ALU64 | AluOp.ADD | Source.K, 0, 0, 0, 1)) // r0 += 1
    .emit(insn(Class.STX | Mode.MEM | Size.DW, 7, 0, counterOff)); // runs = r0
  for (let i = 0; i < subCalls; i++) {
    b.emit(insn(Class.ALU64 | AluOp.MOV | Source.X, 1, 6)).jump(insn(Class.JMP | JmpOp.CALL, 0, CallSrc.LOCAL), 'sub');
  }
  return b
    .emit(insn(Class.ALU64 | AluOp.MOV | Source.K, 0, 0, 0, 0))
    .emit(insn(Class.JMP | JmpOp.EXIT))
    .label('sub') // sub(ctx): bpf_tail_call(ctx, &jmp_table, 0); return 1;
    .emit(ldImm64(2, BigInt(JMP_TABLE_FD), PseudoSrc.MAP_FD))
    .emit(insn(Class.ALU64 | AluOp.MOV | Source.K, 3, 0, 0, 0))
    .emit(insn(Class.JMP | JmpOp.CALL, 0, 0, 0, BPF_FUNC_tail_call))
    .emit(insn(Class.ALU64 | AluOp.MOV | Source.K, 0, 0, 0, 1))
    .emit(insn(Class.JMP | JmpOp.EXIT))
    .build();
}

interface DemoRun {
  profile: string;
  onceProgRuns: number;
  stats: RunStats;
}

function runOn(profile: Profile): DemoRun {
  const env = new Environment();
  const globals = new Uint8Array(16);
  env.addRegion('.bss', globals, { mapFd: COUNTER_FD });
  const entry = new InterpProgram(buildProgram('entry', 2), 'entry');
  const once = new InterpProgram(buildProgram('once_prog', 1), 'once_prog');
  env.addProgArray(progArray(1, { 0: once }), JMP_TABLE_FD);
  const r = runProgram(entry, { profile, env, mem: new Uint8Array(64) });
  const view = new DataView(globals.buffer);
  return { profile: profile.name, onceProgRuns: Number(view.getBigUint64(8, true)), stats: r.stats };
}

export const demo = defineCommand({
  spec: {
    name: 'demo',
    summary: 'show a tail call chain from a subprogram reaching the limit, per kernel profile',
    usage: '[--json]',
    details: `Runs one program on the reference interpreter under every profile: entry calls sub()
twice, sub() tail-calls slot 0, slot 0 holds once_prog, which calls sub() once. Linux 5.10.223
runs once_prog 66 times (the counter travels by value), 6.18 runs it 33 times (tailcalls.md §8.2).`,
    options: { ...COMMON_OPTIONS },
  },
  async run({ options }, io) {
    const runs = Object.values(PROFILES).map(runOn);
    // The kernels' answers, measured with BPF_PROG_TEST_RUN (tailcalls.md §8.2).
    const expected: Record<string, number> = { 'linux-5.10': 66, 'linux-6.18': 33 };
    const ok = runs.every((r) => r.onceProgRuns === expected[r.profile]);
    if (options.json) {
      io.out(JSON.stringify({ ok, runs: runs.map((r) => ({ ...r, expected: expected[r.profile] })) }, null, 2) + '\n');
      return ok ? EXIT_OK : EXIT_CHECK_FAILED;
    }
    io.out('entry, in the kernel\'s syntax (sub is the function at the call target):\n');
    for (const line of kernelListing(buildProgram('entry', 2), { style: 'verifier' })) io.out(`  ${line}\n`);
    io.out('\n');
    const rows = [['profile', 'once_prog runs', 'kernel says', 'tail calls', 'refused (limit)', 'max chain', 'max depth', 'BPF insns']];
    for (const r of runs) {
      rows.push([r.profile, String(r.onceProgRuns), String(expected[r.profile]), String(r.stats.tailCalls.taken),
        String(r.stats.tailCalls.refused.limit), String(r.stats.maxChainLength), String(r.stats.maxCallDepth), String(r.stats.insns)]);
    }
    const w = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
    for (const row of rows) io.out('  ' + row.map((cell, c) => cell.padEnd(w[c])).join('  ') + '\n');
    io.out(`\n${ok ? 'ok' : 'MISMATCH'}: the interpreter ${ok ? 'agrees' : 'disagrees'} with the kernels' measured answers\n`);
    io.out('(the reference interpreter; the emulated JIT takes over this demo as it lands)\n');
    return ok ? EXIT_OK : EXIT_CHECK_FAILED;
  },
});
