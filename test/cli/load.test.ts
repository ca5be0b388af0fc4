// `tailjit load` against what Linux 5.10.223 answered for the objects of programs/
// (programs/expected/5.10.223: koracle documents from kvm-oracle, the rejected programs'
// verifier logs, the guest's kallsyms) and the C sources those objects come from. How line_info
// follows the verifier's rewrites is test/verifier/linfo.test.ts's.

import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { captureIo } from '../../cli/io.js';
import { loadObjectFile, MapType } from '../../src/elf/index.js';
import { verify } from '../../src/verifier/index.js';
import { kernelLayout } from '../../cli/layout.js';
import { PROFILES } from '../../src/profile/index.js';
import { CallSrc, Class, JmpOp, LD_IMM64, PseudoSrc, decode, type Insn } from '../../src/isa/index.js';
import { reachableFromImage } from '../verifier/helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const PROGRAMS = join(ROOT, 'programs');
const EXPECTED = join(PROGRAMS, 'expected/5.10.223');

interface GoldenProgram {
  name: string; section: string; type: string; xlated_insn_count: number; xlated_hex: string;
  jited_hex: string; jited_func_lens: number[]; map_ids: number[]; verifier_stats: string;
}
interface Golden { object: string; programs?: GoldenProgram[]; koracle_error?: boolean }

const golden = (name: string): Golden => JSON.parse(readFileSync(join(EXPECTED, `${name}.json`), 'utf8'));
/** The object a scenario loads (a rejected scenario's golden has none: it never got that far). */
const objectOf = (name: string): string =>
  join('programs', (JSON.parse(readFileSync(join(PROGRAMS, `${name}.json`), 'utf8')) as { object: string }).object);
const scenarios = readdirSync(EXPECTED).filter((f) => f.endsWith('.json') && f !== 'meta.json').map((f) => f.slice(0, -5)).sort();
const accepted = scenarios.filter((s) => !golden(s).koracle_error);
const rejected = scenarios.filter((s) => golden(s).koracle_error);

async function load(...args: string[]) {
  const io = captureIo(ROOT);
  const status = await main(['load', ...args], io);
  return { status, stdout: io.stdout, stderr: io.stderr };
}

async function loadJson(...args: string[]) {
  const r = await load(...args, '--json');
  return { ...r, doc: JSON.parse(r.stdout) };
}

/** The guest's text symbols (booted with nokaslr), by address. */
const KALLSYMS = new Map<bigint, string>(
  readFileSync(join(EXPECTED, 'kallsyms.txt'), 'utf8').split('\n').filter(Boolean).map((l) => {
    const [addr, , name] = l.split(' ');
    return [BigInt(`0x${addr}`), name] as const;
  }),
);
const GUEST_CALL_BASE = [...KALLSYMS].find(([, n]) => n === '__bpf_call_base')![0];

const isHelperCall = (i: Insn) => i.code === (Class.JMP | JmpOp.CALL) && i.src === CallSrc.HELPER;
const isMapLoad = (i: Insn) => i.code === LD_IMM64 && (i.src === PseudoSrc.MAP_FD || i.src === PseudoSrc.MAP_VALUE);
const dumpOf = (hex: string) => decode(Uint8Array.from(Buffer.from(hex, 'hex')));

describe('tailjit load --json against the 5.10.223 goldens', () => {
  for (const name of accepted) {
    const g = golden(name);
    describe(name, () => {
      for (const gp of g.programs ?? []) {
        it(`${gp.name}: count, stack depths, tail_call_reachable and tail call sites as the kernel reported them`, async () => {
          const { status, doc } = await loadJson(objectOf(name), '--prog', gp.name);
          expect(status).toBe(0);
          const p = doc.programs[0];
          expect(p).toMatchObject({ name: gp.name, section: gp.section, type: gp.type, status: 'loaded' });
          expect(p.xlated_insn_count).toBe(gp.xlated_insn_count);
          expect(p.stack_depths).toEqual(/stack depth (\S+)/.exec(gp.verifier_stats)![1].split('+').map(Number));
          expect(p.tail_call_reachable).toEqual(reachableFromImage(gp));
          // Every indirect site starts `mov edx,edx; cmp [rsi+0x24],edx` (tailcalls.md §4.1); a
          // direct one is a poke descriptor. The dump shows every site as `call 12`.
          const indirect = gp.jited_hex.split('89d2395624').length - 1;
          const sites = dumpOf(gp.xlated_hex).filter((i) => isHelperCall(i) && i.imm === 12).length;
          expect(p.indirect_tail_calls.length).toBe(indirect);
          expect(p.pokes.length).toBe(sites - indirect);
        });

        it(`${gp.name}: xlated_hex is the kernel's dump, map ids and helper addresses aside`, async () => {
          const { doc } = await loadJson(objectOf(name), '--prog', gp.name);
          const p = doc.programs[0];
          const mine = dumpOf(p.xlated_hex);
          const kernel = dumpOf(gp.xlated_hex);
          expect(mine.length).toBe(kernel.length);
          // Used maps come in the same order (the kernel's used_maps): ids correspond by position.
          const ids = new Map<number, number>(p.map_ids.map((id: number, k: number) => [id, gp.map_ids[k]]));
          const renamed = new Map<number, number>();
          mine.forEach((m, n) => {
            const k = kernel[n];
            if (isMapLoad(m)) {
              expect({ ...m, imm: ids.get(m.imm) }, `insn ${n}`).toEqual(k);
            } else if (isHelperCall(m) && isHelperCall(k) && k.imm !== 12) {
              // A target the guest's kallsyms lists must be that address; one it does not list
              // (static functions) must at least be the same function at every call.
              const target = KALLSYMS.get(GUEST_CALL_BASE + BigInt(k.imm));
              if (target !== undefined) expect(m.imm, `insn ${n}: call ${target}`).toBe(k.imm);
              else expect(renamed.get(k.imm) ?? m.imm, `insn ${n}`).toBe(m.imm);
              renamed.set(k.imm, m.imm);
            } else {
              expect(m, `insn ${n}`).toEqual(k);
            }
          });
        });
      }
    });
  }

  it('every program of an object, without --prog, in the object order the goldens list', async () => {
    const { status, doc } = await loadJson('programs/sections.bpf.o');
    expect(status).toBe(0);
    expect(doc.programs.map((p: { name: string }) => p.name)).toEqual(golden('sections').programs!.map((p) => p.name));
  });

  it('reports what the verifier did not check, for every program', async () => {
    const { doc } = await loadJson('programs/tail_from_sub.bpf.o');
    const obj = loadObjectFile(join(PROGRAMS, 'tail_from_sub.bpf.o'));
    const layout = kernelLayout(obj, PROFILES['linux-5.10']);
    const options = { profile: PROFILES['linux-5.10'], layout, backend: 'jit' as const };
    for (const spec of obj.programs) {
      const p = doc.programs.find((x: { name: string }) => x.name === spec.name);
      expect(p.not_checked).toEqual(expect.arrayContaining([...(verify(spec, obj, options).notChecked ?? [])]));
      expect(p.not_checked.length).toBeGreaterThan(0);
    }
    layout.close();
    expect(doc.not_checked.length).toBeGreaterThan(0);
  });
});

describe('poke descriptors, maps and globals', () => {
  it('a direct tail call names its map, key, function and instruction', async () => {
    // tail_direct.bpf.c: entry does bpf_tail_call_static(skb, &jmp_table, 0), target0 slot 1.
    const { doc } = await loadJson('programs/tail_direct.bpf.o');
    const pokes = Object.fromEntries(doc.programs.map((p: { name: string; pokes: unknown[] }) => [p.name, p.pokes]));
    expect(pokes.entry).toMatchObject([{ map: 'jmp_table', key: 0, function: 'entry' }]);
    expect(pokes.target0).toMatchObject([{ map: 'jmp_table', key: 1, function: 'target0' }]);
    expect(pokes.target1).toEqual([]);
    // The poke's instruction is the golden dump's `call 12`.
    const g = golden('tail_direct').programs!.find((p) => p.name === 'entry')!;
    const slot = dumpOf(g.xlated_hex).reduce<{ at: number; found?: number }>((s, i) => {
      if (isHelperCall(i) && i.imm === 12) s.found = s.at;
      s.at += i.code === LD_IMM64 ? 2 : 1;
      return s;
    }, { at: 0 }).found;
    expect(pokes.entry[0].insn).toBe(slot);
  });

  it("lists the object's maps with prog arrays marked and libbpf's initial slots", async () => {
    const { doc, stdout } = await loadJson('programs/prog_init.bpf.o');
    // prog_init.bpf.c: a 4-slot prog array `stages` whose __array values fill slots 0 and 2.
    const stages = doc.maps.find((m: { name: string }) => m.name === 'stages');
    expect(stages).toMatchObject({ type_name: 'prog_array', prog_array: true, key_size: 4, value_size: 4, max_entries: 4 });
    expect(stages.initial_slots).toEqual({ 0: 'stage_zero', 2: 'stage_two' });
    expect(stdout).toContain('"prog_array": true');
  });

  it("decodes the globals' initial values as written in globals.bpf.c", async () => {
    const { doc } = await loadJson('programs/globals.bpf.o');
    expect(doc.globals).toMatchObject({
      total: -5, hist: [1, 2, 3, 4], origin: { x: -1, y: 2, tag: 7 },
      col: 4294967293, // BLUE = -3 in an enum clang 14 marks unsigned (programs/README.md)
      bits: { lo: 5, hi: 17, rest: 0xabcde },
      ratio: '0000c03f', // 1.5f = 0x3fc00000, little-endian
      name: [...Buffer.from('tailjit'), 0],
      limit: 3, neg_one: -1, step: 3, greet: [...Buffer.from('hello'), 0],
      runs: 0,
    });
  });

  it('the text report shows functions, tail calls, maps and globals', async () => {
    const { status, stdout } = await load('programs/tail_from_sub.bpf.o', '--prog', 'entry');
    expect(status).toBe(0);
    // tail_from_sub.bpf.c: entry -> middle -> deep (direct tail call), entry -> hop (indirect).
    expect(stdout).toMatch(/program entry \(section tc, type sched_cls\): loaded/);
    for (const f of ['entry', 'middle', 'deep', 'hop']) expect(stdout).toMatch(new RegExp(`\\b${f}\\n`));
    expect(stdout).toMatch(/tail calls: 1 direct, 1 indirect/);
    expect(stdout).toMatch(/in deep: jmp_table\[0\] \(poke descriptor\)/);
    expect(stdout).toMatch(/^maps:\n.*\n.*jmp_table\s+prog_array/m);
    expect(stdout).toMatch(/^globals \(initial values\):/m);
  });
});

describe('tailjit load --xlated', () => {
  const source = (file: string) => new Set(readFileSync(join(PROGRAMS, file), 'utf8').split('\n').map((l) => l.trim()));

  it("prints bpftool's listing: prototypes at function starts, source lines, every slot of the kernel's dump", async () => {
    const { status, stdout } = await load('programs/calls.bpf.o', '--prog', 'two_levels', '--xlated');
    expect(status).toBe(0);
    const listing = stdout.slice(stdout.indexOf('int two_levels('));
    const lines = listing.split('\n\n')[0].split('\n');
    // bpftool writes a pointer parameter as `type * name` (calls.bpf.c: two_levels(struct __sk_buff *skb), leaf(int x)).
    expect(lines[0]).toBe('int two_levels(struct __sk_buff * skb):');
    // Slot 0 loads skb->len (offset 112 of __sk_buff), the statement `a[0] = skb->len;`.
    expect(lines.slice(1, 3)).toEqual(['; a[0] = skb->len;', '   0: (61) r1 = *(u32 *)(r1 +112)']);
    // Slot numbers and opcodes are the kernel's dump's, in order.
    const g = golden('calls').programs!.find((p) => p.name === 'two_levels')!;
    let slot = 0;
    const expected = dumpOf(g.xlated_hex).map((i) => {
      const s = `${slot}: (${i.code.toString(16).padStart(2, '0')})`;
      slot += i.code === LD_IMM64 ? 2 : 1;
      return s;
    });
    expect(lines.filter((l) => /^\s+\d+: \(/.test(l)).map((l) => /\d+: \(..\)/.exec(l)![0])).toEqual(expected);
    // leaf starts where the kernel's pseudo call points (dump form: off = relative offset).
    // two_levels has no ld_imm64 before its call, so the call's index is its slot.
    const call = dumpOf(g.xlated_hex).findIndex((i) => i.code === 0x85 && i.src === CallSrc.LOCAL);
    const leafStart = call + 1 + dumpOf(g.xlated_hex)[call].off;
    // bpftool prints a pseudo call by the dump's `off`, the relative offset: `call pc+3`.
    expect(lines).toContain(`${String(call).padStart(4)}: (85) call pc+${dumpOf(g.xlated_hex)[call].off}`);
    const at = lines.indexOf('int leaf(int x):');
    expect(lines.slice(at + 1).find((l) => /^\s+\d+:/.test(l))).toMatch(new RegExp(`^\\s+${leafStart}: `));
    // Every source line is a line of calls.bpf.c.
    const c = source('calls.bpf.c');
    for (const l of lines.filter((x) => x.startsWith('; '))) expect(c.has(l.slice(2))).toBe(true);
  });

  it('keeps source lines on their statements after the verifier inlines map lookups', async () => {
    const { stdout } = await load('programs/maps.bpf.o', '--xlated');
    const lines = stdout.split('\n');
    // maps.bpf.c: `if (!v)` tests the array lookup's result: a conditional jump follows it.
    const ifV = lines.indexOf('; if (!v)');
    expect(lines[ifV + 1]).toMatch(/^\s+\d+: \(15\) if r\d == 0x0 goto/);
    // The hash lookup's statement comes before the load of `pairs` and the inlined lookup call.
    const lookup = lines.indexOf('; p = bpf_map_lookup_elem(&pairs, &key);');
    expect(lines[lookup + 1]).toMatch(/r1 = map\[id:\d+\]$/);
    expect(lines[lookup + 2]).toMatch(/call __htab_map_lookup_elem#/);
    const c = source('maps.bpf.c');
    for (const l of lines.filter((x) => x.startsWith('; ') && x.length > 2)) expect(c.has(l.slice(2))).toBe(true);
  });

  it('--json --xlated adds the listing to each program', async () => {
    const { doc } = await loadJson('programs/tail_direct.bpf.o', '--prog', 'entry', '--xlated');
    expect(doc.programs[0].xlated[0]).toBe('int entry(struct __sk_buff * skb):');
    expect(doc.programs[0].xlated.some((l: string) => /call bpf_tail_call#12$/.test(l))).toBe(true);
  });
});

describe('rejected programs and bad input', () => {
  for (const name of rejected) {
    it(`${name}: prints the kernel's message and exits 1`, async () => {
      const stderr = readFileSync(join(EXPECTED, `${name}.stderr.txt`), 'utf8');
      const [, prog, message] = /the verifier rejected (\S+):\n(.*)\n/.exec(stderr)!;
      const r = await load(objectOf(name));
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`program ${prog} .*: rejected by the verifier`));
      expect(r.stdout.split('\n')).toContain(`  ${message}`);
      const { status, doc } = await loadJson(objectOf(name));
      expect(status).toBe(1);
      expect(doc.ok).toBe(false);
      expect(doc.programs.find((p: { name: string }) => p.name === prog)).toMatchObject({ status: 'rejected', error: { kernel_message: message } });
    });
  }

  it('shows the instruction and source line the kernel log points at', async () => {
    // The log of reject_depth ends `; LINK(f7, f8)`, `42: (85) call pc+2`, then the message.
    const r = await load('programs/reject_depth.bpf.o');
    const lines = r.stdout.split('\n');
    const at = lines.indexOf('  the call stack of 9 frames is too deep');
    expect(lines.slice(at - 2, at)).toEqual(['  ; LINK(f7, f8)', '  42: (85) call pc+2']);
  });

  it('a truncated ELF exits 2 with the file offset in the message', async () => {
    const full = readFileSync(join(PROGRAMS, 'tail_direct.bpf.o'));
    const dir = mkdtempSync(join(tmpdir(), 'tailjit-load-'));
    const cut = join(dir, 'cut.o');
    // The section header table is at the end of clang's objects (e_shoff), so half loses it.
    writeFileSync(cut, full.subarray(0, full.length >> 1));
    const r = await load(cut);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const shoff = full.readBigUInt64LE(0x28);
    expect(r.stderr).toContain(`${cut}: error: `);
    expect(r.stderr).toContain(`offset 0x${shoff.toString(16)}`);
  });

  it('an unknown --prog exits 2 and names the programs that exist', async () => {
    const r = await load('programs/tail_direct.bpf.o', '--prog', 'nope');
    expect(r.status).toBe(2);
    // The programs the kernel loaded from this object.
    for (const p of golden('tail_direct').programs!) expect(r.stderr).toContain(p.name);
    expect(r.stderr).toContain("no program 'nope'");
  });

  it('a missing OBJ is a usage error', async () => {
    const r = await load();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/missing argument/);
  });

  it('--help lists every option and nothing else', async () => {
    const r = await load('--help');
    expect(r.status).toBe(0);
    const flags = [...r.stdout.matchAll(/^\s+(?:-\w, )?--(\w+)/gm)].map((m) => m[1]).sort();
    // The command line of issue 3: OBJ [--prog NAME] [--xlated] [--profile linux-5.10] [--json], and --help.
    expect(flags).toEqual(['help', 'json', 'profile', 'prog', 'xlated']);
    expect(r.stdout).toMatch(/--prog NAME/);
    expect(r.stdout).toMatch(/--profile P .*linux-5\.10/);
  });
});

describe('the kernel layout load verifies against (cli/layout.ts over emu/kernel)', () => {
  const obj = loadObjectFile(join(PROGRAMS, 'maps.bpf.o'));
  const layout = kernelLayout(obj, PROFILES['linux-5.10']);
  afterAll(() => layout.close());
  const guest = (name: string) => [...KALLSYMS].find(([, n]) => n === name)?.[0];

  it("puts __bpf_call_base and the helpers at the guest's kallsyms addresses", () => {
    expect(layout.bpfCallBase).toBe(GUEST_CALL_BASE);
    // 5.10: helper 1 is bpf_map_lookup_elem; helper 7 (get_prandom_u32) is implemented by bpf_user_rnd_u32.
    expect(layout.helperAddress(1)).toBe(guest('bpf_map_lookup_elem'));
    expect(layout.helperAddress(7)).toBe(guest('bpf_user_rnd_u32'));
    expect(layout.symbolAt(guest('bpf_map_lookup_elem')!)).toBe('bpf_map_lookup_elem');
  });

  it('bpf_tail_call exists (it becomes BPF_TAIL_CALL); no id past 5.10\'s last (155) does', () => {
    expect(layout.helperAddress(12)).toBeDefined();
    expect(layout.helperAddress(156)).toBeUndefined(); // __BPF_FUNC_MAX_ID of 5.10 is 156
  });

  it('places every map at its own address, array values at the bpf_array offset the inlined lookup adds', () => {
    const addrs = obj.maps.map((_, i) => layout.mapAddress(i));
    expect(new Set(addrs).size).toBe(obj.maps.length);
    // array_map_gen_lookup adds offsetof(struct bpf_array, value) = 0x110 to the map pointer (5.10).
    obj.maps.forEach((m, i) => {
      if (m.type === MapType.ARRAY) expect(layout.mapValueAddress(i) - layout.mapAddress(i)).toBe(0x110n);
    });
    expect(obj.maps.map((_, i) => layout.mapId(i))).toEqual(obj.maps.map((_, i) => i + 1));
  });
});
