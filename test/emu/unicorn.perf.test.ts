// Throughput report for the unicorn binding (no timing assertions). Skipped unless UNICORN_BENCH=1.

import { describe, expect, it } from 'vitest';
import { measureCalls, measureLoops } from '../../emu/unicorn/bench.js';

describe.skipIf(!process.env.UNICORN_BENCH)('unicorn throughput (UNICORN_BENCH=1)', () => {
  it('prints loop throughput and per-call costs', () => {
    const loops = measureLoops();
    const calls = measureCalls();
    const lines = [
      ...loops.map((r) => `${r.name.padEnd(52)} ${r.mips.toFixed(1).padStart(8)} M insn/s  (${r.instructions} insns, ${r.hookCalls} hook calls)`),
      ...calls.map((c) => `${c.name.padEnd(52)} ${c.ns.toFixed(0).padStart(8)} ns/call`),
    ];
    console.log(lines.join('\n'));
    // The hook counts are exact, whatever the timing: 2n+1 instructions, n loop bodies.
    expect(loops.find((r) => r.name.startsWith('code hook on the loop body'))?.hookCalls).toBe(1_000_000);
    expect(loops.find((r) => r.name.startsWith('code hook on a range the loop never'))?.hookCalls).toBe(0);
  }, 300_000);
});
