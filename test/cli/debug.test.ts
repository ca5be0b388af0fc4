// `tailjit debug`, `tailjit gdbserver` and `tailjit symbols` through the command line (main()
// with a capturing Io): commands from a file, --json events one per line, usage errors, and the
// ELF file read back with a small reader written here from the ELF64 gABI layout.

import { describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { captureIo } from '../../cli/io.js';
import { loadMachine } from '../../emu/debug/harness-target.js';
import { readDebugInput } from '../../emu/debug/plan.js';

const ROOT = join(import.meta.dirname, '../..');
const tmp = () => mkdtempSync(join(tmpdir(), 'tailjit-cli-debug-'));

function commands(lines: string[]): string {
  const f = join(tmp(), 'cmds');
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

describe('tailjit debug', () => {
  test('--commands FILE --json: one event per line; a breakpoint on loop_direct hit 33 times, tcc 1..33', async () => {
    const io = captureIo(ROOT);
    const file = commands(['break loop_direct', ...Array(34).fill('continue'), 'quit']);
    expect(await main(['debug', 'programs/self_tail.json', '--commands', file, '--json'], io)).toBe(0);
    const events = io.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ type: 'stop', reason: 'start', tcc: 0 });
    const hits = events.filter((e) => e.type === 'stop' && e.reason === 'breakpoint');
    expect(hits.map((e) => e.tcc)).toEqual(Array.from({ length: 33 }, (_, i) => i + 1));
    expect(events.find((e) => e.type === 'run-end')).toMatchObject({ retval: 34, checks_ok: true });
    expect(events.filter((e) => e.type === 'command')).toHaveLength(36);
  });

  test('text output: commands echoed with the prompt, bt with the frame chain', async () => {
    const io = captureIo(ROOT);
    const file = commands(['# a comment', 'break target', 'continue', 'continue', 'continue', 'bt']);
    expect(await main(['debug', 'programs/tail_from_sub.json', '--commands', file], io)).toBe(0);
    expect(io.stdout).toContain('(tailjit) bt\n#0  ');
    expect(io.stdout).toMatch(/#0 {2}0x[0-9a-f]+ in target insn 0 \[deep -> target\], stack_depth 0/);
    expect(io.stdout).toMatch(/#1 {2}0x[0-9a-f]+ in middle insn \d+, stack_depth 8/);
    expect(io.stdout).not.toContain('a comment');
  });

  test('an object: one run of --prog with its slots as the object left them (empty: the tail call falls through)', async () => {
    const io = captureIo(ROOT);
    const file = commands(['continue', 'continue']);
    expect(await main(['debug', 'programs/self_tail.bpf.o', '--prog', 'loop_direct', '--commands', file, '--json'], io)).toBe(0);
    const events = io.stdout.trim().split('\n').map((l) => JSON.parse(l));
    // Slot 0 empty: loop_direct runs once and returns its count, 1 (tailcalls.md §8.4).
    expect(events.find((e) => e.type === 'run-end')).toMatchObject({ retval: 1, trace: { tail_calls: 0, tail_calls_refused: 1 } });
    expect(events.at(-1)).toMatchObject({ type: 'exited', retval: 1 });
  });

  test('bad input ends with exit status 2 and a message', async () => {
    const io = captureIo(ROOT);
    expect(await main(['debug', 'programs/nonexistent.json'], io)).toBe(2);
    expect(io.stderr).toContain('cannot read');
    const io2 = captureIo(ROOT);
    expect(await main(['debug', 'programs/self_tail.json', '--prog', 'x', '--commands', commands([])], io2)).toBe(2);
    expect(io2.stderr).toContain('--prog applies to objects');
  });
});

describe('tailjit gdbserver', () => {
  test('--port is required and must be a port number', async () => {
    const io = captureIo(ROOT);
    expect(await main(['gdbserver', 'programs/self_tail.json'], io)).toBe(2);
    expect(io.stderr).toContain('--port');
    expect(await main(['gdbserver', '--port', '70000', 'programs/self_tail.json'], captureIo(ROOT))).toBe(2);
    expect(await main(['gdbserver', '--help'], captureIo(ROOT))).toBe(0);
  });
});

// --- a reader for the symbol file, from the ELF64 gABI ------------------------------------------

interface Section { name: string; type: number; addr: bigint; offset: number; size: bigint }

function readElf(b: Buffer): { machine: number; sections: Section[]; symbols: { name: string; value: bigint; size: bigint; type: number; shndx: number }[] } {
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shnum = b.readUInt16LE(0x3c);
  const shstrndx = b.readUInt16LE(0x3e);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + 64 * i;
    return { nameOff: b.readUInt32LE(o), type: b.readUInt32LE(o + 4), addr: b.readBigUInt64LE(o + 0x10), offset: Number(b.readBigUInt64LE(o + 0x18)), size: b.readBigUInt64LE(o + 0x20), link: b.readUInt32LE(o + 0x28) };
  });
  const cstr = (off: number) => b.toString('latin1', off, b.indexOf(0, off));
  const sections = raw.map((s) => ({ ...s, name: cstr(raw[shstrndx].offset + s.nameOff) }));
  const symtab = sections.find((s) => s.type === 2)!;
  const strtab = sections[raw[sections.indexOf(symtab)].link];
  const symbols = [];
  for (let o = symtab.offset + 24; o < symtab.offset + Number(symtab.size); o += 24) {
    symbols.push({ name: cstr(strtab.offset + b.readUInt32LE(o)), type: b[o + 4] & 0xf, shndx: b.readUInt16LE(o + 6), value: b.readBigUInt64LE(o + 8), size: b.readBigUInt64LE(o + 16) });
  }
  return { machine: b.readUInt16LE(0x12), sections, symbols };
}

describe('tailjit symbols', () => {
  test('an ELF64 x86-64 file with a FUNC symbol per image and kernel function at the gdbserver\'s addresses', async () => {
    const out = join(tmp(), 'syms.elf');
    const io = captureIo(ROOT);
    expect(await main(['symbols', 'programs/tail_from_sub.json', '-o', out], io)).toBe(0);
    const b = readFileSync(out);
    expect([...b.subarray(0, 6)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 2, 1]); // ELF, 64-bit, little-endian
    const elf = readElf(b);
    expect(elf.machine).toBe(62); // EM_X86_64
    expect(elf.sections.map((s) => s.name)).toEqual(expect.arrayContaining(['.symtab', '.strtab', '.shstrtab', '.debug_info', '.debug_abbrev', '.debug_line', '.debug_frame']));
    // The same deterministic load the gdbserver makes.
    const m = loadMachine(readDebugInput(join(ROOT, 'programs/tail_from_sub.json')));
    try {
      for (const p of m.programs.values()) {
        for (const f of p.jit.funcs) {
          const name = f.index === 0 ? p.name : f.name;
          expect(elf.symbols.find((s) => s.name === name), name).toMatchObject({ value: f.address, size: BigInt(f.image.length), type: 2 });
        }
      }
      for (const k of ['tailjit_test_run', '__x86_indirect_thunk_rcx', 'srso_alias_return_thunk']) {
        expect(elf.symbols.find((s) => s.name === k)).toMatchObject({ value: m.kernel.symbol(k), type: 2 });
      }
      // Global variables as OBJECT symbols (STT_OBJECT = 1).
      expect(elf.symbols.find((s) => s.name === 'target_runs')).toMatchObject({ type: 1, size: 4n });
    } finally {
      m.close();
    }
    // Every symbol's section covers its address.
    for (const s of elf.symbols.slice(1)) {
      const sec = elf.sections[s.shndx];
      expect(s.value >= sec.addr && s.value + s.size <= sec.addr + sec.size, s.name).toBe(true);
    }
    expect(io.stdout).toMatch(/symbols, \d+ line rows from 2 source file\(s\)/);
  });

  test('-o is required', async () => {
    const io = captureIo(ROOT);
    expect(await main(['symbols', 'programs/self_tail.json'], io)).toBe(2);
    expect(io.stderr).toContain('-o FILE');
  });
});
