// Rough throughput figures for the binding: instructions per second of a tight loop under
// different hook set-ups, and the cost of single calls. Run with
//   UNICORN_BENCH=1 npx vitest run test/emu/unicorn.perf.test.ts
// Nothing asserts on these numbers; they feed emu/unicorn/README.md.

import { UcProt, X86Reg } from './consts.js';
import { Unicorn } from './unicorn.js';

export interface LoopResult {
  name: string;
  instructions: number;
  seconds: number;
  /** Millions of guest instructions per second. */
  mips: number;
  hookCalls: number;
}

export interface CallResult {
  name: string;
  /** Nanoseconds per call. */
  ns: number;
}

const BASE = 0xffffffffc0000000n;

/**
 * `mov ecx, n` (B9 id) ; L: `dec ecx` (FF /1, ModRM c9) ; `jnz L` (75 cb, rel8 -4) ; `nop`.
 * Runs 2n + 1 instructions and ends at the nop.
 */
function loopCode(n: number): Uint8Array {
  const b = new Uint8Array(10);
  b[0] = 0xb9;
  new DataView(b.buffer).setUint32(1, n, true);
  b.set([0xff, 0xc9, 0x75, 0xfc, 0x90], 5);
  return b;
}
const LOOP_BODY = BASE + 5n; // dec ecx
const LOOP_END = BASE + 9n; // nop

/**
 * The same loop with a load and a store per iteration, on the data page at BASE + 0x1000 (rbx):
 * `mov ecx, n` ; L: `mov rax, [rbx]` (REX.W 8B /r, ModRM 03) ; `mov [rbx+8], rax` (REX.W 89 /r,
 * ModRM 43 disp8 08) ; `dec ecx` ; `jnz L` (rel8 5 - 16 = -11) ; `nop`. Runs 4n + 1 instructions.
 */
function memLoopCode(n: number): Uint8Array {
  const b = new Uint8Array(17);
  b[0] = 0xb9;
  new DataView(b.buffer).setUint32(1, n, true);
  b.set([0x48, 0x8b, 0x03, 0x48, 0x89, 0x43, 0x08, 0xff, 0xc9, 0x75, 0xf5, 0x90], 5);
  return b;
}
const MEM_LOOP_END = BASE + 16n;
const DATA = BASE + 0x1000n;

type Setup = (uc: Unicorn, counter: { calls: number }) => { count?: number };

const SETUPS: [string, boolean, Setup][] = [
  ['no hooks', true, () => ({})],
  ['no hooks, recordFaults off', false, () => ({})],
  ['code hook on a range the loop never runs', true, (uc, c) => {
    uc.hookCode(() => { c.calls++; }, BASE + 0x1000n, BASE + 0x1fffn);
    return {};
  }],
  ['code hook on the entry instruction only (1 call)', true, (uc, c) => {
    uc.hookCode(() => { c.calls++; }, BASE, BASE);
    return {};
  }],
  ['code hook on the loop body (n calls)', true, (uc, c) => {
    uc.hookCode(() => { c.calls++; }, LOOP_BODY, LOOP_BODY);
    return {};
  }],
  ['code hook everywhere (2n+1 calls)', true, (uc, c) => {
    uc.hookCode(() => { c.calls++; });
    return {};
  }],
  ['count option (limit never reached)', true, () => ({ count: Number.MAX_SAFE_INTEGER })],
];

const MEM_SETUPS: [string, boolean, Setup][] = [
  ['load/store loop, no hooks', true, () => ({})],
  ['load/store loop, recordFaults off', false, () => ({})],
  ['load/store loop, mem hook on a range it never touches', true, (uc, c) => {
    uc.hookMemAccess(() => { c.calls++; }, undefined, BASE + 0x100000n, BASE + 0x100fffn);
    return {};
  }],
];

/**
 * Loop throughput; `n` iterations (2n + 1 instructions; 4n + 1 for the load/store loop), fewer
 * for the hooks that fire on every iteration.
 */
export function measureLoops(n = 20_000_000, hookedN = 1_000_000): LoopResult[] {
  const all = [...SETUPS.map((s) => [...s, false] as const), ...MEM_SETUPS.map((s) => [...s, true] as const)];
  return all.map(([name, recordFaults, setup, memLoop]) => {
    const iterations = /n calls|2n\+1/.test(name) ? hookedN : n;
    const uc = Unicorn.open(undefined, undefined, { recordFaults });
    try {
      uc.memMap(BASE, 0x2000, UcProt.ALL);
      uc.memWrite(BASE, memLoop ? memLoopCode(iterations) : loopCode(iterations));
      uc.regWrite(X86Reg.RBX, DATA);
      const end = memLoop ? MEM_LOOP_END : LOOP_END;
      const counter = { calls: 0 };
      const options = setup(uc, counter);
      uc.start(BASE, end, options); // warm the translation
      let seconds = Infinity;
      for (let round = 0; round < 3; round++) { // best of three
        counter.calls = 0;
        const t0 = process.hrtime.bigint();
        uc.start(BASE, end, options);
        seconds = Math.min(seconds, Number(process.hrtime.bigint() - t0) / 1e9);
      }
      const instructions = (memLoop ? 4 : 2) * iterations + 1;
      return { name, instructions, seconds, mips: instructions / seconds / 1e6, hookCalls: counter.calls };
    } finally {
      uc.close();
    }
  });
}

function perCall(name: string, iterations: number, fn: () => void): CallResult {
  for (let i = 0; i < Math.min(iterations, 1000); i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return { name, ns: Number(process.hrtime.bigint() - t0) / iterations };
}

/** Cost of single binding calls. */
export function measureCalls(iterations = 200_000): CallResult[] {
  const uc = Unicorn.open();
  try {
    uc.memMap(BASE, 0x2000, UcProt.ALL);
    uc.memWrite(BASE, Uint8Array.of(0x90)); // nop
    const eight = new Uint8Array(8);
    const regs = [X86Reg.RAX, X86Reg.RBX, X86Reg.RCX, X86Reg.RDX, X86Reg.RSI, X86Reg.RDI, X86Reg.RBP, X86Reg.RSP,
      X86Reg.R8, X86Reg.R9, X86Reg.R10, X86Reg.R11, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15];
    const ctx = uc.contextSave();
    return [
      perCall('regRead(RAX)', iterations, () => { uc.regRead(X86Reg.RAX); }),
      perCall('regWrite(RAX)', iterations, () => uc.regWrite(X86Reg.RAX, 0x1234n)),
      perCall('16 x regRead', iterations / 16, () => { for (const r of regs) uc.regRead(r); }),
      perCall('regReadBatch(16 regs)', iterations / 16, () => { uc.regReadBatch(regs); }),
      perCall('memReadU64', iterations, () => { uc.memReadU64(BASE); }),
      perCall('memRead(8) (allocates)', iterations, () => { uc.memRead(BASE, 8); }),
      perCall('memReadInto(8 bytes)', iterations, () => uc.memReadInto(BASE, eight)),
      perCall('memWrite(8 bytes)', iterations, () => uc.memWrite(BASE + 0x100n, eight)),
      perCall('contextSave(into) + contextRestore', iterations / 4, () => { uc.contextRestore(uc.contextSave(ctx)); }),
      perCall('start() of one nop', iterations / 20, () => { uc.start(BASE, BASE + 1n); }),
      perCall('start() of one nop with timeoutUs', iterations / 200, () => { uc.start(BASE, BASE + 1n, { timeoutUs: 1_000_000 }); }),
    ];
  } finally {
    uc.close();
  }
}
