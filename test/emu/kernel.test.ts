// The modeled kernel on its own: the labelled address space, the hand-encoded thunks run as
// x86, the struct layouts the JIT's code reads (tailcalls.md §4.3), the maps' helper semantics
// (5.10 arraymap.c / hashtab.c), bpf_trace_printk's format rules, and the test-run context.

import { afterEach, describe, expect, test } from 'vitest';
import { PROFILES } from '../../src/profile/index.js';
import { MapType, type MapSpec } from '../../src/elf/types.js';
import { X86Reg } from '../../emu/unicorn/index.js';
import {
  ArrayMap, Errno, HashMap, Kernel, KALLSYMS, ProgArrayMap, Prandom, formatTracePrintk, skbContext, xdpContext,
} from '../../emu/kernel/index.js';

const profile = PROFILES['linux-5.10'];
let kernels: Kernel[] = [];
function kernel(): Kernel {
  const k = new Kernel({ profile });
  kernels.push(k);
  return k;
}
afterEach(() => {
  for (const k of kernels) k.close();
  kernels = [];
});

const spec = (name: string, type: number, keySize: number, valueSize: number, maxEntries: number): MapSpec =>
  ({ name, type, keySize, valueSize, maxEntries, flags: 0 });
const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);

/** Runs `code` placed in the module area until `stop` (an offset into it). */
function runCode(k: Kernel, code: (at: bigint) => number[], stop: number): void {
  const region = k.mem.alloc('modules', 4096, 'test code', 'image', { fill: 0xcc });
  k.mem.writeText(region.begin, Uint8Array.from(code(region.begin)));
  k.uc.regWrite(X86Reg.RSP, k.entryRsp);
  k.uc.start(region.begin, region.begin + BigInt(stop));
}

const rel32 = (from: bigint, to: bigint): number[] => [...new Uint8Array(new Int32Array([Number(to - from)]).buffer)];
const imm64 = (v: bigint): number[] => [...new Uint8Array(new BigUint64Array([v]).buffer)];

describe('address space', () => {
  test('guard pages on both sides of the 16 KiB stack are labelled and unmapped', () => {
    const k = kernel();
    expect(k.stackTop - k.stackBase).toBe(16384n);
    expect(k.describe(k.stackBase - 8n)).toBe('guard page below the kernel stack +0xff8');
    expect(k.describe(k.stackTop)).toBe('guard page above the kernel stack +0x0');
    expect(() => k.mem.read(k.stackBase - 8n, 8)).toThrow(/UNMAPPED/);
  });

  test('kernel text is named by symbol, thunks at the reference guest addresses', () => {
    const k = kernel();
    // programs/expected/5.10.223/kallsyms.txt
    expect(k.symbol('__x86_indirect_thunk_rcx')).toBe(0xffffffff81c01e00n);
    expect(k.symbol('srso_alias_return_thunk')).toBe(0xffffffff81c02000n);
    expect(k.symbol('__bpf_call_base')).toBe(0xffffffff811ae060n);
    expect(k.describe(KALLSYMS.__x86_indirect_thunk_rcx)).toBe('__x86_indirect_thunk_rcx');
    expect(k.describe(KALLSYMS.__x86_indirect_thunk_rcx + 3n)).toBe('__x86_indirect_thunk_rcx+0x3');
    expect(k.describe(0x1000n)).toBe('unmapped 0x1000');
  });

  test('the JIT and the verifier get the same addresses', () => {
    const k = kernel();
    const layout = k.layout();
    expect(layout.bpfCallBase).toBe(k.jitSymbols.bpfCallBase);
    expect(layout.helperAddress(1)).toBe(KALLSYMS.bpf_map_lookup_elem);
    expect(layout.helperAddress(7)).toBe(KALLSYMS.bpf_user_rnd_u32);
    expect(layout.helperAddress(9999)).toBeUndefined();
    expect(layout.kernelSymbol?.('__htab_map_lookup_elem')).toBeDefined();
  });
});

describe('thunks as x86', () => {
  test('the retpoline __x86_indirect_thunk_rcx behaves as jmp rcx and leaves rsp alone', () => {
    const k = kernel();
    const thunk = k.symbol('__x86_indirect_thunk_rcx');
    // movabs rcx, target; jmp thunk; ... target (offset 0x40): mov eax, 42; (stop at 0x45)
    runCode(k, (at) => [0x48, 0xb9, ...imm64(at + 0x40n), 0xe9, ...rel32(at + 15n, thunk), ...new Array(0x40 - 15).fill(0xcc), 0xb8, 42, 0, 0, 0], 0x45);
    expect(k.uc.regRead(X86Reg.RAX)).toBe(42n);
    expect(k.uc.regRead(X86Reg.RSP)).toBe(k.entryRsp);
  });

  test('the SRSO return thunk (call safe_ret; lea rsp,[rsp+8]; ret) returns like ret', () => {
    const k = kernel();
    const thunk = k.symbol('srso_alias_return_thunk');
    // call f (at 0x10); stop at 5 ... f: jmp return thunk
    runCode(k, (at) => [0xe8, ...rel32(at + 5n, at + 0x10n), ...new Array(11).fill(0xcc), 0xe9, ...rel32(at + 0x15n, thunk)], 5);
    expect(k.uc.regRead(X86Reg.RSP)).toBe(k.entryRsp);
  });
});

describe('struct layouts the JIT reads (tailcalls.md §4.3)', () => {
  test('prog array: max_entries at 0x24, ptrs[] at 0x110', () => {
    const k = kernel();
    k.addMaps([spec('jmp_table', MapType.PROG_ARRAY, 4, 4, 5)]);
    const m = k.maps[0] as ProgArrayMap;
    expect(k.mem.readU32(m.address + 0x24n)).toBe(5);
    m.exchange(3, 0xffff888012345600n);
    expect(k.mem.readU64(m.address + 0x110n + 3n * 8n)).toBe(0xffff888012345600n);
    m.exchange(3, null);
    expect(k.mem.readU64(m.address + 0x110n + 3n * 8n)).toBe(0n);
  });

  test('struct bpf_prog: bpf_func at 0x30', () => {
    const k = kernel();
    const p = k.addProgObject('p', 'sched_cls', 0xffffffffc0001234n, new Uint8Array(16), 100);
    expect(k.mem.readU64(p.address + 0x30n)).toBe(0xffffffffc0001234n);
  });

  test('array values are contiguous from array->value (0x110) in round_up(value_size, 8) steps', () => {
    // array_map_gen_lookup(): value = &array->value + index * elem_size.
    const k = kernel();
    k.addMaps([spec('a', MapType.ARRAY, 4, 12, 3)]);
    const m = k.maps[0] as ArrayMap;
    expect(m.update(u32(2), Uint8Array.from({ length: 12 }, (_, i) => i + 1), 0n)).toBe(0);
    expect([...k.mem.read(m.address + 0x110n + 2n * 16n, 12)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(k.mem.readU32(m.address + 0x24n)).toBe(3);
    expect(m.lookup(u32(3))).toBe(0n);
  });
});

describe('map helpers (5.10 semantics)', () => {
  test.each([
    ['array update past max_entries', 'array', 7, 0n, -Errno.E2BIG],
    ['array update with BPF_NOEXIST', 'array', 0, 1n, -Errno.EEXIST],
    ['array update with a bad flag', 'array', 0, 3n, -Errno.EINVAL],
    ['array update with BPF_EXIST', 'array', 0, 2n, 0],
  ] as const)('%s', (_name, _kind, key, flags, want) => {
    const k = kernel();
    k.addMaps([spec('a', MapType.ARRAY, 4, 8, 4)]);
    expect((k.maps[0] as ArrayMap).update(u32(key), new Uint8Array(8), flags)).toBe(want);
  });

  test('hash: NOEXIST on a present key, EXIST on a missing one, full map, delete of a missing key', () => {
    const k = kernel();
    k.addMaps([spec('h', MapType.HASH, 4, 8, 2)]);
    const h = k.maps[0] as HashMap;
    expect(h.update(u32(1), new Uint8Array(8).fill(7), 1n)).toBe(0);
    expect(h.update(u32(1), new Uint8Array(8), 1n)).toBe(-Errno.EEXIST);
    expect(h.update(u32(2), new Uint8Array(8), 2n)).toBe(-Errno.ENOENT);
    expect(h.update(u32(2), new Uint8Array(8), 0n)).toBe(0);
    expect(h.update(u32(3), new Uint8Array(8), 0n)).toBe(-Errno.E2BIG);
    expect(h.delete(u32(9))).toBe(-Errno.ENOENT);
    // the value follows the key at 48 + round_up(key_size, 8) in struct htab_elem
    const elem = h.lookupElem(u32(1));
    expect(h.lookup(u32(1))).toBe(elem + 56n);
    expect([...k.mem.read(elem + 56n, 8)]).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
  });

  test('a deleted hash element is reused only after a grace period', () => {
    const k = kernel();
    k.addMaps([spec('h', MapType.HASH, 4, 8, 1)]);
    const h = k.maps[0] as HashMap;
    h.update(u32(1), new Uint8Array(8), 0n);
    h.delete(u32(1));
    expect(h.update(u32(2), new Uint8Array(8), 0n)).toBe(-Errno.ENOMEM);
    k.gracePeriod();
    expect(h.update(u32(2), new Uint8Array(8), 0n)).toBe(0);
  });
});

describe('bpf_trace_printk format (5.10 bpf_trace.c)', () => {
  const fmt = (s: string) => new TextEncoder().encode(s + '\0');
  const mem = { cString: (a: bigint) => (a === 0x1000n ? new TextEncoder().encode('hi') : null) };
  test.each([
    ['%d %u %x', [-1n, -1n, 255n], '-1 4294967295 ff'],
    ['%lld %llu %llx', [-1n, -1n, 0x1234567890n], '-1 18446744073709551615 1234567890'],
    ['%ld|%lu', [-2n, 3n], '-2|3'],
    ['s=%s.', [0x1000n], 's=hi.'],
    ['plain text', [], 'plain text'],
  ])('%s', (f, args, want) => {
    expect(formatTracePrintk(fmt(f), args, mem)).toBe(want);
  });

  test.each([
    ['four conversions', '%d %d %d %d'],
    ['%% is not a conversion in 5.10', '100%%'],
    ['two %s', '%s %s'],
    ['%c', '%c'],
    ['a non-printable byte', 'a\x01b'],
  ])('refused (EINVAL): %s', (_n, f) => {
    expect(formatTracePrintk(fmt(f), [0n, 0n, 0n], mem)).toBeNull();
  });

  test('the last byte must be the NUL', () => {
    expect(formatTracePrintk(new TextEncoder().encode('abc'), [], mem)).toBeNull();
  });
});

test('bpf_get_prandom_u32 is deterministic for a seed', () => {
  const a = new Prandom(42n);
  const b = new Prandom(42n);
  const c = new Prandom(43n);
  const xs = [a.next(), a.next(), a.next()];
  expect([b.next(), b.next(), b.next()]).toEqual(xs);
  expect(c.next()).not.toBe(xs[0]);
});

describe('test-run context', () => {
  test('tc sees the whole frame; a socket filter sees skb->len without the Ethernet header', () => {
    // programs/README.md: 80 bytes of data give a socket filter skb->len 66.
    const k = kernel();
    const tc = skbContext(k, 'sched_cls', new Uint8Array(80));
    expect(k.mem.readU32(tc.r1 + 112n)).toBe(80);
    const dataTc = k.mem.readU64(tc.r1 + 200n);
    expect(k.mem.readU64(tc.r1 + 80n) - dataTc).toBe(80n); // cb data_end - data
    const sock = skbContext(k, 'socket_filter', new Uint8Array(80));
    expect(k.mem.readU32(sock.r1 + 112n)).toBe(66);
    expect(k.mem.readU64(sock.r1 + 200n) - dataTc).toBe(14n);
    // the device is lo, ifindex 1
    expect(k.mem.readU32(k.mem.readU64(sock.r1 + 16n) + 256n)).toBe(1);
  });

  test('xdp: data_end - data is the frame size, 256 bytes of headroom', () => {
    const k = kernel();
    const x = xdpContext(k, new Uint8Array(64));
    const data = k.mem.readU64(x.r1);
    expect(k.mem.readU64(x.r1 + 8n) - data).toBe(64n);
    expect(data - k.mem.readU64(x.r1 + 24n)).toBe(256n);
  });

  test('frames below the Ethernet header size are refused (EINVAL)', () => {
    expect(() => skbContext(kernel(), 'sched_cls', new Uint8Array(13))).toThrow(/data size 13/);
  });
});
