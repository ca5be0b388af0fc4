// The reference interpreter's cost per BPF instruction on a loop, against the same loop written
// directly in JavaScript with the same 64-bit BigInt arithmetic, measured in the same process.
//
//   node dist/bench/interp-loop.js [ITERATIONS]

import { assemble } from '../src/asm/index.js';
import { runProgram } from '../src/interp/index.js';

const N = Number(process.argv[2] ?? 1_000_000);
const prog = assemble(`
  mov %r0, 0
  mov %r1, ${N}
loop:
  add %r0, %r1
  xor %r0, 0x5a
  sub %r1, 1
  jne %r1, 0, loop
  exit
`);

function interp(): { ms: number; insns: number; r0: bigint } {
  const t0 = performance.now();
  const r = runProgram(prog, { budget: { insns: 10 * N + 10 } });
  return { ms: performance.now() - t0, insns: r.stats.insns, r0: r.r0 };
}

function direct(): { ms: number; r0: bigint } {
  const t0 = performance.now();
  let r0 = 0n;
  let r1 = BigInt(N);
  while (true) {
    r0 = BigInt.asUintN(64, r0 + r1);
    r0 = r0 ^ 0x5an;
    r1 = BigInt.asUintN(64, r1 - 1n);
    if (r1 === 0n) break;
  }
  return { ms: performance.now() - t0, r0 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
interp();
direct();
const a: number[] = [];
const b: number[] = [];
let insns = 0;
for (let i = 0; i < 7; i++) {
  const x = interp();
  const y = direct();
  if (x.r0 !== y.r0) throw new Error(`results differ: ${x.r0} vs ${y.r0}`);
  insns = x.insns;
  a.push(x.ms);
  b.push(y.ms);
}
const nsPerInsn = (median(a) * 1e6) / insns;
const ratios = a.map((v, i) => v / b[i]);
console.log(JSON.stringify({
  iterations: N, bpf_insns: insns,
  interp_ms_median: +median(a).toFixed(1), direct_js_ms_median: +median(b).toFixed(1),
  interp_ns_per_insn: +nsPerInsn.toFixed(1),
  ratio_interp_over_direct_js: { min: +Math.min(...ratios).toFixed(2), median: +median(ratios).toFixed(2), max: +Math.max(...ratios).toFixed(2) },
}, null, 2));
