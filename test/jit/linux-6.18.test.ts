// The linux-6.18 profile's tail-call scheme, "bpf, x64: Fix tailcall hierarchy" (tailcalls.md
// §9.2): one counter per run behind a pointer (tcc_ptr). First the host kernel's own images
// (koracle on 6.18.44, programs/selftests/expected/host-6.18.*, programs/expected/host-6.18.*)
// reproduced byte for byte from their xlated instructions with the host's image addresses and
// symbols; then each sequence on its own, with bytes derived by hand from §9.2's table.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jitProgram } from '../../src/jit/index.js';
import { PROFILES } from '../../src/profile/index.js';
import { REF_SYMBOLS, disasm, hex, mk, program, unhex } from './fixtures.js';
import { EXIT, IMAGE } from './helpers.js';
import { describeCorpus, fromScenario, fromSidecar, type Corpus } from './oracle-corpus.js';

const P618 = PROFILES['linux-6.18'];
const PROGRAMS = join(import.meta.dirname, '..', '..', 'programs');
const SELFTESTS = join(PROGRAMS, 'selftests');

/** Every host-6.18.* folder of `root`'s expected/. */
const hostDirs = (root: string): string[] => {
  const dir = join(root, 'expected');
  return existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith('host-6.18.')).map((d) => join(dir, d)) : [];
};

/**
 * x86_return_thunk of the host's SRSO "Safe RET" mitigation (arch/x86/kernel/cpu/bugs.c): the
 * alias thunk on AMD family 0x19, srso_return_thunk on the others (meta.json's cpu_family).
 */
const returnThunk = (dir: string): string =>
  (JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { cpu_family: string }).cpu_family === '25' ? 'srso_alias_return_thunk' : 'srso_return_thunk';

const host = (name: string, dir: string, sites: Corpus['sites']): Corpus =>
  ({ name, oracle: 'koracle on the host', release: dir.split('host-')[1], profile: P618, dir, sites, returnThunk: returnThunk(dir) });

const CORPORA: Corpus[] = [
  ...hostDirs(SELFTESTS).map((dir) => host('programs/selftests', dir, fromScenario(SELFTESTS))),
  ...hostDirs(PROGRAMS).map((dir) => host('programs', dir, fromSidecar(join(import.meta.dirname, 'oracle', 'programs-sites.json')))),
];

for (const corpus of CORPORA) describeCorpus(corpus);

const TAIL_DIRECT = mk(0xf5, 0, 0, 0, 1); // BPF_TAIL_CALL, poke descriptor 0
const TAIL_INDIRECT = mk(0xf5, 0, 0, 0, 0);
const MOV_R6_R1 = mk(0xbf, 6, 1); // uses r6: push rbx / pop rbx (P = 1)
const POKE = { insnIdx: 1, mapIndex: 0, key: 0, func: 0 };

/** Bytes of `[first, last)` of function `func` of the program under linux-6.18 at IMAGE. */
function jit618(funcs: Parameters<typeof program>[0], pokes: Parameters<typeof program>[1] = [], slotTarget: bigint | null = null) {
  return jitProgram(program(funcs, pokes), P618, { symbols: REF_SYMBOLS, images: ({ func }) => IMAGE + BigInt(func) * 0x1000n, slotTarget: () => slotTarget });
}

describe('the prologue under tcc_ptr (tailcalls.md §9.2)', () => {
  const nop5 = '0f1f440000';
  // cmp rax, 33; ja +6 (over push, mov, jmp = 1 + 3 + 2); push rax; mov rax, rsp; jmp +1 (over one push); push rax; push rax
  const mainSeq = '4883f821 7706 50 4889e0 eb01 50 50';
  it('a tail-call-reachable main function: xor rax, rax at offset 5, the counter and its pointer after the frame', () => {
    const f = jit618([{ insns: [EXIT], tailCallReachable: true }]).funcs[0];
    expect(hex(f.image.subarray(0, f.addrs[0]))).toBe(hex(unhex(`${nop5} 4831c0 55 4889e5 ${mainSeq}`)));
    // X86_TAIL_CALL_OFFSET 12: the cmp, right after mov rbp, rsp
    expect(disasm(f.image.subarray(12, 16))).toEqual(['cmp rax, 0x21']);
  });
  it('with a stack: sub rsp comes first, then the same sequence', () => {
    const f = jit618([{ insns: [EXIT], tailCallReachable: true, stackDepth: 8 }]).funcs[0];
    expect(hex(f.image.subarray(0, f.addrs[0]))).toBe(hex(unhex(`${nop5} 4831c0 55 4889e5 4881ec08000000 ${mainSeq}`)));
  });
  it('a tail-call-reachable subprogram pushes the pointer twice; an unreachable function has nop3 and no slot', () => {
    const r = jit618([{ insns: [mk(0x85, 0, 1, 0, 1), EXIT], tailCallReachable: true }, { insns: [EXIT], tailCallReachable: true }, { insns: [EXIT] }]);
    expect(hex(r.funcs[1].image.subarray(0, r.funcs[1].addrs[0]))).toBe(hex(unhex(`${nop5} 0f1f00 55 4889e5 50 50`)));
    expect(hex(r.funcs[2].image.subarray(0, r.funcs[2].addrs[0]))).toBe(hex(unhex(`${nop5} 0f1f00 55 4889e5`)));
  });
});

describe('calls under tcc_ptr load the pointer before bpf2bpf calls only', () => {
  it('mov rax, [rbp - SDr - 16] before a bpf2bpf call, nothing before a helper call', () => {
    const r = jit618([{ insns: [mk(0x85, 0, 0, 0, 1), mk(0x85, 0, 1, 0, 1), EXIT], tailCallReachable: true, stackDepth: 8 }, { insns: [EXIT], tailCallReachable: true }]);
    const f = r.funcs[0];
    const helper = f.image.subarray(f.addrs[0], f.addrs[1]);
    expect(helper[0]).toBe(0xe8);
    expect(helper.length).toBe(5);
    const call = f.image.subarray(f.addrs[1], f.addrs[2]);
    // -(8 + 16) = -0x18 as disp32; the rel32 counts from the end of the 12 bytes.
    expect(hex(call.subarray(0, 7))).toBe('488b85e8ffffff');
    expect(new DataView(call.buffer, call.byteOffset + 8).getInt32(0, true)).toBe(Number(r.funcs[1].address - (f.address + BigInt(f.addrs[2]))));
  });
});

describe('tail calls under tcc_ptr', () => {
  const funcs = [{ insns: [MOV_R6_R1, TAIL_DIRECT, EXIT], tailCallReachable: true }];
  it('direct, empty slot (state C): check, site 1 jumps over the rest, then count, pops, both slots, site 2', () => {
    const r = jit618(funcs, [POKE]);
    const f = r.funcs[0];
    const seq = f.image.subarray(f.addrs[1], f.addrs[2]);
    // jae out: site 1 (5) + add (4) + pop rbx (1) + pop rax x2 (2) + site 2 (5) = 17 = 0x11;
    // site 1: jmp +12 (over add, pops, site 2).
    expect(hex(seq)).toBe(hex(unhex('488b85f0ffffff 48833821 7311 e90c000000 48830001 5b 5858 0f1f440000')));
    const ip = f.address + BigInt(f.addrs[1]);
    expect(r.pokes[0]).toMatchObject({ tailcallBypass: ip + 13n, tailcallTarget: ip + 25n, bypassAddr: ip + 30n, adjOff: 12 });
  });
  it('direct, populated slot (state B): site 1 a nop5, site 2 jumps to target + 12', () => {
    const target = 0xffffffffc0100000n;
    const r = jit618(funcs, [POKE], target);
    const f = r.funcs[0];
    const seq = f.image.subarray(f.addrs[1], f.addrs[2]);
    expect(hex(seq.subarray(13, 18))).toBe('0f1f440000');
    const site2 = f.address + BigInt(f.addrs[1]) + 25n;
    expect(seq[25]).toBe(0xe9);
    expect(BigInt(new DataView(seq.buffer, seq.byteOffset + 26).getInt32(0, true))).toBe(target + 12n - (site2 + 5n));
  });
  it('indirect: bounds at 0x4c, check, slot at 0x138, NULL check, then the increment, pops, bpf_func at 0x48 + 12', () => {
    const f = jit618([{ insns: [MOV_R6_R1, TAIL_INDIRECT, EXIT], tailCallReachable: true, stackDepth: 8 }]).funcs[0];
    const seq = f.image.subarray(f.addrs[1], f.addrs[2]);
    // From the end of each jcc to out, J = 5 (the thunk jump), P = 1, add rsp = 7:
    // jbe: 7 + 4 + 2 + 8 + 3 + 2 + 4 + 1 + 2 + 7 + 4 + 4 + 5 = 53 = 0x35; jae: 53 - 13 = 40 = 0x28; je: 40 - 13 = 27 = 0x1b.
    // (tail_call_helpers on the 6.18.44 host has these three, 35 / 28 / 1b, with the same P and stack.)
    const head = '89d2 39564c 7635 488b85e8ffffff 48833821 7328 488b8cd638010000 4885c9 741b 48830001 5b 5858 4881c408000000 488b4948 4883c10c';
    expect(hex(seq.subarray(0, seq.length - 5))).toBe(hex(unhex(head)));
    expect(seq[seq.length - 5]).toBe(0xe9);
  });
});
