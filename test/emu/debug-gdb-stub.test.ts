// The GDB stub without gdb: the remote protocol's framing (checksums, escapes, run-length
// encoding: the GDB manual's "Overview" of the remote protocol) and the packet handlers over a
// real target, including malformed packets, which get error replies instead of crashes.

import { afterEach, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { PacketReader, checksum, decodeBody, encodePacket, leHex } from '../../emu/debug/gdb/packet.js';
import { dispatch, targetDescription, type StubSession } from '../../emu/debug/gdb/handlers.js';
import { GDB_REGISTERS } from '../../emu/debug/registers.js';
import { HarnessTarget } from '../../emu/debug/harness-target.js';
import { readDebugInput } from '../../emu/debug/plan.js';

const PROGRAMS = join(import.meta.dirname, '../../programs');

describe('packet framing', () => {
  test.each([
    // The manual's example checksum: `$OK#9a` (0x4f + 0x4b = 0x9a).
    { name: 'OK', payload: 'OK', wire: '$OK#9a' },
    { name: 'the empty reply', payload: '', wire: '$#00' },
    // `}` escapes: `$` 0x24 -> `}` 0x04, `#` 0x23 -> `}` 0x03, `}` 0x7d -> `}` 0x5d, `*` 0x2a -> `}` 0x0a.
    { name: 'escaped bytes', payload: 'a$b#c}d*', wire: `$a}\x04b}\x03c}\x5dd}\x0a#${checksum('a}\x04b}\x03c}\x5dd}\x0a').toString(16).padStart(2, '0')}` },
  ])('encodes $name', ({ payload, wire }) => {
    expect(encodePacket(payload)).toBe(wire);
    expect(new PacketReader().feed(wire)).toEqual([{ kind: 'packet', payload }]);
  });

  test('run-length encoding: `0* ` is "0" and 3 more (0x20 - 29 = 3)', () => {
    expect(decodeBody('0* ')).toBe('0000');
    // The manual's example: "0* " means "0000".
    expect(decodeBody('a*"b')).toBe('a'.repeat(6) + 'b'); // '"' is 34: 5 more
  });

  test('acks, the interrupt byte, packets split across reads and bad checksums', () => {
    const r = new PacketReader();
    expect(r.feed('+$g#6')).toEqual([{ kind: 'ack' }]);
    expect(r.feed('7\x03-')).toEqual([{ kind: 'packet', payload: 'g' }, { kind: 'interrupt' }, { kind: 'nack' }]);
    expect(r.feed('$g#00')).toEqual([{ kind: 'bad', reason: expect.stringContaining('checksum') }]);
    expect(r.feed('junk$?#3f')).toEqual([{ kind: 'bad', reason: expect.any(String) }, { kind: 'packet', payload: '?' }]);
    expect(r.feed(`$}#${checksum('}').toString(16)}`)).toEqual([{ kind: 'bad', reason: expect.stringContaining('escape') }]);
  });

  test('leHex writes registers little-endian, as the g packet carries them', () => {
    expect(leHex(0x1122334455667788n, 8)).toBe('8877665544332211');
    expect(leHex(0x202n, 4)).toBe('02020000');
  });
});

describe('target.xml', () => {
  test('names the registers in the order and sizes the g packet uses', () => {
    const xml = targetDescription();
    const regs = [...xml.matchAll(/<reg name="([^"]+)" bitsize="(\d+)"[^>]*regnum="(\d+)"/g)].map((m) => [m[1], Number(m[2]), Number(m[3])]);
    expect(regs).toEqual(GDB_REGISTERS.map((r, i) => [r.name, r.bits, i]));
    expect(xml).toContain('<architecture>i386:x86-64</architecture>');
  });
});

describe('packet handlers', () => {
  const targets: HarnessTarget[] = [];
  afterEach(() => {
    for (const t of targets.splice(0)) t.close();
  });
  function stub(): StubSession & { out: string[] } {
    const target = HarnessTarget.open(readDebugInput(join(PROGRAMS, 'self_tail.json')), { startAt: 'bpf_func' });
    targets.push(target);
    const out: string[] = [];
    return { target, noAck: false, console: (t) => out.push(t), out };
  }
  const reply = (s: StubSession, p: string) => dispatch(p, s).payload;

  test('stopped before the first instruction: ? is a SIGTRAP, rip is bpf_func', () => {
    const s = stub();
    expect(reply(s, '?')).toBe('T05thread:01;');
    const rip = reply(s, 'p10')!;
    const f = (s.target as HarnessTarget).machine.program('loop_direct').jit.funcs[0];
    expect(rip).toBe(leHex(f.address, 8));
    // 16 x 8 + 8 + 4 + 6 x 4 + 8 x 10 + 8 x 4 + 16 x 16 + 4 bytes.
    expect(reply(s, 'g')!.length).toBe(2 * 536);
  });

  test('Z0 at bpf_func + 11, then c: stops there with swbreak, 34 times in the first run', () => {
    const s = stub();
    const f = (s.target as HarnessTarget).machine.program('loop_direct').jit.funcs[0];
    const landing = f.address + 11n;
    expect(reply(s, `Z0,${landing.toString(16)},1`)).toBe('OK');
    let hits = 0;
    let r = reply(s, 'c');
    while (r === 'T05swbreak:;thread:01;' && s.out.length === 0) {
      hits++;
      r = reply(s, 'vCont;c');
    }
    expect(hits).toBe(34); // the run's own entry falls through +11, then 33 tail calls land there
    // The run returned: its result on gdb's console, then the next run stopped at its start.
    expect(s.out[0]).toContain('returned 34');
    expect(r).toBe('T05thread:01;');
    expect(reply(s, `z0,${landing.toString(16)},1`)).toBe('OK');
  });

  test('the last run ends the process: W with the low byte of its return value', () => {
    const s = stub();
    let r = reply(s, 'c');
    for (let i = 0; i < 10 && !r!.startsWith('W'); i++) r = reply(s, 'c');
    // self_tail.json's last run: loop_indirect after a reset, 34 runs.
    expect(r).toBe(`W${(34).toString(16).padStart(2, '0')}`);
  });

  test('qSupported, qXfer target.xml in pieces, threads, vCont?', () => {
    const s = stub();
    expect(reply(s, 'qSupported:multiprocess+;swbreak+')).toContain('qXfer:features:read+');
    const xml = targetDescription();
    const first = reply(s, 'qXfer:features:read:target.xml:0,100')!;
    expect(first).toBe(`m${xml.slice(0, 0x100)}`);
    const rest = reply(s, `qXfer:features:read:target.xml:100,${xml.length.toString(16)}`)!;
    expect(rest).toBe(`l${xml.slice(0x100)}`);
    expect(reply(s, 'qXfer:features:read:other.xml:0,10')).toBe('E00');
    expect(reply(s, 'vCont?')).toBe('vCont;c;C;s;S');
    expect(reply(s, 'qfThreadInfo')).toBe('m01');
    expect(reply(s, 'qSomethingElse')).toBe('');
  });

  test('memory: m and M and X, a short read at the end of a mapping, E14 when nothing is mapped', () => {
    const s = stub();
    const k = (s.target as HarnessTarget).machine.kernel;
    const top = k.stackTop; // the guard page starts here
    expect(reply(s, `M${(top - 4n).toString(16)},4:01020304`)).toBe('OK');
    expect(reply(s, `m${(top - 4n).toString(16)},8`)).toBe('01020304');
    expect(reply(s, `X${(top - 2n).toString(16)},2:ab`)).toBe('OK');
    expect(reply(s, `m${(top - 4n).toString(16)},4`)).toBe('01026162');
    expect(reply(s, `m${top.toString(16)},4`)).toBe('E14');
  });

  test('malformed packets get error replies, never a crash', () => {
    const s = stub();
    for (const p of ['m', 'mzz,4', 'm1000', 'M1000,4:0g', 'M1000,2:00', 'pzz', 'p999', 'P10=12', 'G00', 'Z0', 'Z0,zz,1', 'Z2,10,', 'vCont;x', 'vCont', 'qXfer:features:read:target.xml:zz']) {
      expect(reply(s, p), p).toMatch(/^E[0-9a-f]{2}$/);
    }
    // Still usable afterwards.
    expect(reply(s, '?')).toBe('T05thread:01;');
  });

  test('k and D end the session', () => {
    const s = stub();
    expect(dispatch('D', s)).toEqual({ payload: 'OK', close: true });
    expect(dispatch('k', s)).toEqual({ payload: null, close: true });
  });
});
