// `tailjit jit` against what Linux 5.10.223 JIT-ed for the objects of programs/
// (programs/expected/5.10.223: koracle documents from kvm-oracle with the guest's kallsyms), the
// form table's releases (sdiv is cpu v4, Linux 6.6), and the x86 sequences tailcalls.md gives.

import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { funcImages, maskSites, namer as namerOf, readKallsyms, withoutAddresses } from '../helpers/images.js';
import { main } from '../../cli/main.js';
import { captureIo } from '../../cli/io.js';
import { jit } from '../../cli/commands/jit.js';

const ROOT = join(import.meta.dirname, '../..');
const EXPECTED = join(ROOT, 'programs/expected/5.10.223');
const SUITE = join(ROOT, '../shared/conformance/tests');

interface GoldenProgram { name: string; jited_len: number; jited_func_lens: number[]; jited_ksyms: string[]; jited_hex: string }
interface Golden { object: string; programs?: GoldenProgram[] }
interface Func { name: string; address: string; len: number; stack_depth: number; tail_call_reachable: boolean; addrs: number[] }
interface Poke { map: string; key: number; slot: string | null; state: string; func: string; tailcall_target: string; tailcall_bypass: string }
interface Program extends GoldenProgram { funcs: Func[]; pokes: Poke[]; stack_depths: number[]; stack_depth_from?: string }

const golden = (name: string): Golden => JSON.parse(readFileSync(join(EXPECTED, `${name}.json`), 'utf8'));

async function run(...args: string[]) {
  const io = captureIo(ROOT);
  const status = await main(['jit', ...args], io);
  return { status, stdout: io.stdout, stderr: io.stderr };
}

async function runJson(...args: string[]): Promise<{ status: number; programs: Program[]; errors: { code: string; message: string; insn?: number }[] }> {
  const r = await run(...args, '--json');
  const doc = JSON.parse(r.stdout);
  return { status: r.status, programs: doc.programs, errors: doc.errors };
}

/** The guest's text symbols (booted with nokaslr), by address. */
const KALLSYMS = readKallsyms(join(EXPECTED, 'kallsyms.txt'));
const namer = (programs: readonly GoldenProgram[]): ((a: bigint) => string) => namerOf(programs, KALLSYMS);

/** Offsets in function `i` of `p` of its direct sites, from the command's pokes. */
function siteOffsets(p: Program, i: number): Set<number> {
  const base = BigInt(p.funcs[i].address);
  return new Set(p.pokes.filter((k) => k.func === p.funcs[i].name).flatMap((k) => [k.tailcall_target, k.tailcall_bypass].map((a) => Number(BigInt(a) - base))));
}

const scenarios = readdirSync(EXPECTED).filter((f) => f.endsWith('.json') && f !== 'meta.json').map((f) => f.slice(0, -5)).sort();
const accepted = scenarios.filter((s) => !(golden(s) as { koracle_error?: boolean }).koracle_error);

describe('tailjit jit --json against the 5.10.223 kernel images', () => {
  for (const name of accepted) {
    it(`${name}: every function's length, and its bytes apart from absolute addresses and direct sites`, async () => {
      const g = golden(name);
      const { status, programs } = await runJson(join('programs', g.object));
      expect(status).toBe(0);
      const mine = namer(programs);
      const theirs = namer(g.programs!);
      for (const gp of g.programs!) {
        const p = programs.find((x) => x.name === gp.name)!;
        expect(p, gp.name).toBeDefined();
        expect(p.jited_func_lens, gp.name).toEqual(gp.jited_func_lens);
        expect(p.jited_len, gp.name).toBe(gp.jited_len);
        const a = funcImages(p);
        const b = funcImages(gp);
        a.forEach((f, i) => {
          const sites = siteOffsets(p, i);
          const ours = maskSites(withoutAddresses(f.bytes, f.address, mine), sites);
          expect(ours, `${gp.name} function ${i}`).toEqual(maskSites(withoutAddresses(b[i].bytes, b[i].address, theirs), sites));
        });
      }
    });
  }

  it('tail_direct right after load is the kernel\'s "all slots empty" snapshot, direct sites included', async () => {
    // tail_direct.json's first step snapshots the images before any slot is set: every direct
    // site must fall through, as after this command's load (no __array values in the object).
    const g = golden('tail_direct') as Golden & { snapshots: { label: string; programs: { name: string; jited_hex: string }[] }[] };
    const snap = g.snapshots.find((s) => s.label === 'all slots empty')!;
    const { programs } = await runJson('programs/tail_direct.bpf.o');
    const mine = namer(programs);
    const theirs = namer(g.programs!);
    for (const gp of g.programs!) {
      const p = programs.find((x) => x.name === gp.name)!;
      const a = funcImages(p);
      const b = funcImages({ ...gp, jited_hex: snap.programs.find((x) => x.name === gp.name)!.jited_hex });
      a.forEach((f, i) => expect(withoutAddresses(f.bytes, f.address, mine), `${gp.name} function ${i}`).toEqual(withoutAddresses(b[i].bytes, b[i].address, theirs)));
      expect(p.pokes.map((k) => k.state)).toEqual(p.pokes.map(() => 'C'));
    }
  });

  it('funcs[] repeats jited_ksyms and jited_func_lens, and each addrs[] ends at the function length', async () => {
    const { programs } = await runJson('programs/calls.bpf.o', '--prog', 'three_levels');
    const [p] = programs;
    expect(p.funcs.map((f) => f.address)).toEqual(p.jited_ksyms);
    expect(p.funcs.map((f) => f.len)).toEqual(p.jited_func_lens);
    // x86-jit.md §7.1: addrs[len] is the image length.
    for (const f of p.funcs) expect(f.addrs[f.addrs.length - 1]).toBe(f.len);
  });

  it('--prog shows one program, at the address it has when every program is loaded', async () => {
    const all = await runJson('programs/calls.bpf.o');
    const one = await runJson('programs/calls.bpf.o', '--prog', 'three_levels');
    expect(one.programs.map((p) => p.name)).toEqual(['three_levels']);
    expect(one.programs[0].jited_ksyms).toEqual(all.programs.find((p) => p.name === 'three_levels')!.jited_ksyms);
  });

  it('a direct tail call is a poke on its map and key (tail_direct.bpf.c: entry tail-calls jmp_table[0])', async () => {
    const { programs } = await runJson('programs/tail_direct.bpf.o', '--prog', 'entry');
    expect(programs[0].pokes).toMatchObject([{ map: 'jmp_table', key: 0, slot: null, state: 'C' }]);
  });
});

describe('tailjit jit listings', () => {
  it('names the indirect tail call thunk and the return thunk (tailcalls.md §4.2, x86-jit.md §6.4)', async () => {
    const { status, stdout } = await run('programs/tail_indirect.bpf.o', '--disasm');
    expect(status).toBe(0);
    expect(stdout).toMatch(/jmp 0xffffffff81c01e00 <__x86_indirect_thunk_rcx>/);
    expect(stdout).toMatch(/jmp 0xffffffff81c02000 <srso_alias_return_thunk>/);
    expect(stdout).toMatch(/tail_call \(indirect\)/);
  });

  it('names a direct tail call and a bpf2bpf call target', async () => {
    const direct = await run('programs/tail_direct.bpf.o', '--prog', 'entry', '--disasm');
    expect(direct.stdout).toMatch(/tail_call \(direct, poke 0\)/);
    const calls = await run('programs/calls.bpf.o', '--prog', 'two_levels', '--disasm');
    // calls.bpf.c: two_levels calls leaf.
    expect(calls.stdout).toMatch(/call 0x[0-9a-f]+ <leaf>/);
  });

  it('names the kernel functions the verifier\'s rewrites call, in the BPF text and in the x86 call', async () => {
    // maps.bpf.c looks up and updates a hash map: 5.10's fixup_bpf_calls() inlines the lookup
    // (htab_map_gen_lookup: a call to __htab_map_lookup_elem) and calls the map's own update.
    const { stdout } = await run('programs/maps.bpf.o', '--disasm');
    expect(stdout).toMatch(/\(85\) call __htab_map_lookup_elem#\d+\n.*call 0x[0-9a-f]+ <__htab_map_lookup_elem>/);
    expect(stdout).toMatch(/\(85\) call htab_map_update_elem#\d+\n.*call 0x[0-9a-f]+ <htab_map_update_elem>/);
  });

  it('the default output has a header per function with every field', async () => {
    const { status, stdout } = await run('programs/calls.bpf.o', '--prog', 'two_levels');
    expect(status).toBe(0);
    // Stack depths 8+8 (the golden's verifier_stats), bpf2bpf calls get the extra pass.
    expect(stdout).toMatch(/^func 0 two_levels at 0xffffffffc[0-9a-f]+: 44 bytes, tail_call_reachable no, stack 8, passes \d+ \+ extra pass$/m);
    expect(stdout).toMatch(/^func 1 leaf at 0xffffffffc[0-9a-f]+: 77 bytes, tail_call_reachable no, stack 8, passes \d+ \+ extra pass$/m);
  });

  it('--hex prints one line per function whose bytes, back to back, are jited_hex', async () => {
    const { stdout } = await run('programs/calls.bpf.o', '--prog', 'three_levels', '--hex');
    const { programs } = await runJson('programs/calls.bpf.o', '--prog', 'three_levels');
    const lines = stdout.trim().split('\n').map((l) => l.split(' '));
    expect(lines.map((l) => l[0])).toEqual(['three_levels/three_levels', 'three_levels/mid', 'three_levels/leaf', 'three_levels/global_sq']);
    expect(lines.map((l) => Number(l[2]))).toEqual(golden('calls').programs!.find((p) => p.name === 'three_levels')!.jited_func_lens);
    expect(lines.map((l) => l[3]).join('')).toBe(programs[0].jited_hex);
  });
});

describe('tailjit jit on assembly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailjit-jit-'));

  it('refuses sdiv under linux-5.10 naming the slot, the line and Linux 6.6 (exit 2)', async () => {
    // sdiv32-imm.data: line 4 `lddw` (two slots), line 5 `sdiv32`: slot 2; cpu v4 came with 6.6.
    const r = await run(join(SUITE, 'sdiv32-imm.data'));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/sdiv32-imm\.data:5:insn 2: error: .*sdiv32.* needs Linux 6\.6/);
  });

  it('--json carries the refusal with its code and slot', async () => {
    const r = await runJson(join(SUITE, 'sdiv32-imm.data'));
    expect(r.status).toBe(2);
    expect(r.programs).toEqual([]);
    expect(r.errors).toMatchObject([{ code: 'jit.unsupported-insn', insn: 2 }]);
  });

  it('refuses an atomic other than add: BPF_ATOMIC xchg arrived in Linux 5.12', async () => {
    // BPF_ATOMIC with BPF_XCHG arrived in Linux 5.12 (the form table's release for it).
    const r = await run(join(SUITE, 'lock_xchg.data'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/needs Linux 5\.12/);
  });

  it('splits at call local and takes the verifier\'s stack depths when it accepts the program', async () => {
    // call_local.data: the main function and one callee at its call target; neither touches r10.
    const { status, programs } = await runJson(join(SUITE, 'call_local.data'));
    expect(status).toBe(0);
    expect(programs[0].funcs.map((f) => f.stack_depth)).toEqual([0, 0]);
    expect(programs[0].stack_depth_from).toBe('verifier');
  });

  it('a .s file: stack depth from the verifier (8 for a store at r10-8)', async () => {
    const file = join(dir, 'store.s');
    writeFileSync(file, 'mov %r0, 7\nstxdw [%r10-8], %r0\nldxdw %r0, [%r10-8]\nexit\n');
    const { status, programs } = await runJson(file);
    expect(status).toBe(0);
    expect(programs[0].stack_depths).toEqual([8]);
    // x86-jit.md §2: a non-empty frame is `sub rsp, round_up(depth, 8)`: 48 81 ec 08 00 00 00.
    expect(programs[0].jited_hex).toContain('4881ec08000000');
  });

  it('a program the verifier refuses gets 512 bytes per function, and says why', async () => {
    const file = join(dir, 'ctx.s');
    // Reading r2 before writing it: the verifier refuses ("R2 !read_ok"); the JIT does not care.
    writeFileSync(file, 'mov %r0, %r2\nexit\n');
    const { status, programs } = await runJson(file);
    expect(status).toBe(0);
    expect(programs[0].stack_depths).toEqual([512]);
    expect(programs[0].stack_depth_from).toBe('max_bpf_stack');
    const text = await run(file);
    expect(text.stdout).toMatch(/note: stack depths are MAX_BPF_STACK: the verifier refuses it/);
  });

  it('an assembly error is bad input with its line and column', async () => {
    const file = join(dir, 'bad.s');
    writeFileSync(file, 'mov %r0, 1\nfrobnicate %r1\nexit\n');
    const r = await run(file);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.s:2:1: error:/);
  });

  it('--prog is refused for an assembly file', async () => {
    const r = await run(join(SUITE, 'call_local.data'), '--prog', 'x');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--prog applies to objects/);
  });
});

describe('tailjit jit errors and options', () => {
  it('a program the verifier rejects: its message at file:line and exit 2', async () => {
    // reject_depth.stderr.txt (the 5.10.223 guest): "the call stack of 9 frames is too deep".
    const r = await run('programs/reject_depth.bpf.o');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/reject_depth\.bpf\.c:\d+:\d+:insn \d+: error: the call stack of 9 frames is too deep/);
  });

  it('an unknown --prog names the programs there are', async () => {
    const r = await run('programs/calls.bpf.o', '--prog', 'nope');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no program 'nope'.*two_levels, three_levels/);
  });

  it('--hex, --disasm and --json are alternatives', async () => {
    const r = await run('programs/calls.bpf.o', '--hex', '--disasm');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/alternatives/);
  });

  it('--help lists every option', async () => {
    const r = await run('--help');
    expect(r.status).toBe(0);
    for (const name of Object.keys(jit.spec.options)) expect(r.stdout).toContain(`--${name}`);
    for (const name of ['--prog NAME', '--profile P', '--hex', '--disasm', '--json', 'exit status 2']) expect(r.stdout).toContain(name);
  });

  it('--profile linux-6.18 compiles with that kernel\'s prologue: nop3 at offset 5 (tailcalls.md §9.2)', async () => {
    const r = await runJson('programs/calls.bpf.o', '--profile', 'linux-6.18');
    expect(r.status).toBe(0);
    expect(r.programs.map((p) => p.name)).toEqual((golden('calls').programs ?? []).map((p) => p.name));
    for (const p of r.programs) expect(p.jited_hex.slice(0, 16)).toBe('0f1f4400000f1f00');
  });
});
