// `tailjit scenario FILE` (shared/spec/scenario.md): the result document with koracle's keys,
// its values against what Linux 5.10.223 answered for the same scenario files
// (programs/expected/5.10.223, kvm-oracle), the text form, and the exit status: 0 when every run
// ended normally and every check held, 1 when a run ended with an error, 2 for bad input, with
// the message naming the step.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { captureIo } from '../../cli/io.js';
import { changedGlobals } from '../../cli/commands/scenario.js';

const ROOT = join(import.meta.dirname, '../..');
const PROGRAMS = join(ROOT, 'programs');
const EXPECTED = join(PROGRAMS, 'expected/5.10.223');

async function scenario(...args: string[]) {
  const io = captureIo(ROOT);
  const status = await main(['scenario', ...args], io);
  return { status, stdout: io.stdout, stderr: io.stderr };
}

interface Golden {
  runs: Record<string, unknown>[];
  snapshots?: { step: number; label: string; programs: { name: string }[] }[];
  programs: Record<string, unknown>[];
}
const golden = (name: string): Golden => JSON.parse(readFileSync(join(EXPECTED, `${name}.json`), 'utf8'));

const tmp = mkdtempSync(join(tmpdir(), 'tailjit-scenario-cli-'));
let files = 0;
/** A scenario file in a temporary folder (objects named by absolute path). */
function scenarioFile(doc: unknown): string {
  const f = join(tmp, `s${files++}.json`);
  writeFileSync(f, JSON.stringify(doc));
  return f;
}
const obj = (name: string): string => join(PROGRAMS, `${name}.bpf.o`);

describe('tailjit scenario --json: the result document (scenario.md "Output")', () => {
  it('has the oracle\'s keys for the document, each run and each program, and tailjit\'s own', async () => {
    const r = await scenario('programs/sub_twice.json', '--json');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    const g = golden('sub_twice');
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(['tailjit', 'scenario', 'description', 'object', 'entry', 'kernel', 'runs', 'snapshots', 'programs']));
    expect(doc.kernel).toEqual({ profile: 'linux-5.10', release: '5.10.223 (modeled)', machine: 'x86_64 (emulated)' });
    expect(doc.scenario).toBe('programs/sub_twice.json');
    for (const run of doc.runs) {
      expect(Object.keys(run)).toEqual(expect.arrayContaining([...Object.keys(g.runs[0]), 'trace', 'error']));
    }
    const programKeys = ['name', 'section', 'type', 'xlated_insn_count', 'jited_len', 'jited_func_lens', 'jited_ksyms', 'stack_depths', 'tail_call_reachable', 'xlated_hex', 'jited_hex'];
    for (const p of doc.programs) expect(Object.keys(p)).toEqual(expect.arrayContaining(programKeys));
    expect(Object.keys(doc.snapshots[0])).toEqual(Object.keys(g.snapshots![0]));
  });

  it('answers run by run what Linux 5.10.223 answered (sub_twice: 2, then 68)', async () => {
    const doc = JSON.parse((await scenario('programs/sub_twice.json', '--json')).stdout);
    const g = golden('sub_twice');
    const pick = (run: Record<string, unknown>) => ({ step: run.step, label: run.label, prog: run.prog, repeat: run.repeat, data_size: run.data_size, retval: run.retval, globals: run.globals, sections: run.sections });
    expect(doc.runs.map(pick)).toEqual(g.runs.map(pick));
    for (const gp of g.programs) {
      const p = doc.programs.find((x: { name: string }) => x.name === gp.name);
      expect({ section: p.section, type: p.type, xlated_insn_count: p.xlated_insn_count, jited_func_lens: p.jited_func_lens })
        .toEqual({ section: gp.section, type: gp.type, xlated_insn_count: gp.xlated_insn_count, jited_func_lens: gp.jited_func_lens });
    }
    expect(doc.runs[1].trace.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
  });

  it('--profile linux-6.1 models the 6.1.192 kernel and answers as it did', async () => {
    const doc = JSON.parse((await scenario('programs/sub_twice.json', '--profile', 'linux-6.1', '--json')).stdout);
    const g = JSON.parse(readFileSync(join(PROGRAMS, 'expected/6.1.192/sub_twice.json'), 'utf8')) as Golden;
    expect(doc.kernel.profile).toBe('linux-6.1');
    expect(doc.runs.map((x: { retval: number }) => x.retval)).toEqual(g.runs.map((x) => x.retval));
  });
});

describe('tailjit scenario: the text', () => {
  it('one row per run with what the harness saw, then the label and the globals the run changed', async () => {
    const r = await scenario('programs/sub_twice.json');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('programs/sub_twice.json: a program calling a tail-calling subprogram twice (tailcalls.md 10.1, 8.2)');
    expect(lines).toContain('kernel linux-5.10, 5.10.223 (modeled), x86_64 (emulated)');
    const head = lines.findIndex((l) => l.startsWith('step'));
    expect(lines[head].split(/\s{2,}/)).toEqual(['step', 'prog', 'repeat', 'retval', 'tail calls', 'refused', 'chain', 'depth', 'stack', 'checks']);
    // Step 4 (programs/expected/5.10.223/sub_twice.json): retval 68, 66 once_prog runs (each a
    // tail call), sub's fall-through twice (cnt_refused), chains of 33 (tailcalls.md 8.2).
    const row = lines.find((l) => /^\s+4\s/.test(l))!.trim().split(/\s+/);
    expect(row.slice(0, 2)).toEqual(['4', 'entry']);
    expect(row.slice(2, 6)).toEqual(['68', '66', '2', '33']);
    expect(row.slice(-2)).toEqual(['6', 'ok']); // six checks, all held
    // Changed since the previous run (step 0: cnt_target 0, cnt_calls 2 in the golden).
    expect(lines).toContain('      globals: cnt_target 0 -> 66, cnt_calls 2 -> 68');
    // The first run, against the object's .bss (zeros).
    expect(lines).toContain('      globals: cnt_main 0 -> 1, cnt_back 0 -> 2, cnt_calls 0 -> 2, cnt_refused 0 -> 2');
    expect(lines).toContain('      two chains of 33: 66 once_prog runs, 68 sub calls, retval 68');
    expect(r.stdout).toMatch(/snapshot at step 3 \(slot 0 = once_prog\)/);
    expect(r.stdout).toMatch(/2 run\(s\): every run ended normally and every check held\n$/);
  });

  it('changedGlobals lists what differs, arrays and structs as JSON', () => {
    expect(changedGlobals({ a: 1, b: [1, 2], c: { x: 1 } }, { a: 1, b: [1, 3], c: { x: 2 }, d: 5n })).toEqual(['b [1,2] -> [1,3]', 'c {"x":1} -> {"x":2}', 'd - -> 5']);
  });
});

describe('tailjit scenario: exit status 1 when a run did not end normally', () => {
  it('a run the real kernel never finishes ends with a budget error; the later run still runs', async () => {
    // programs/selftests/expected/5.10.223/tailcall_bpf2bpf_hierarchy1.json: the guest hung in
    // the run at step 3 (2^34 - 1 runs of entry, selftests.md 2).
    const r = await scenario('programs/selftests/tailcall_bpf2bpf_hierarchy1.json', '--budget-ms', '100');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/error \(budget\): entry did not return within the wall-time budget of 100000 us/);
    expect(r.stdout).toMatch(/reached: \d+ tail calls, \d+ bpf2bpf calls, deepest chain 33/);
    const row5 = r.stdout.split('\n').find((l) => /^\s+5\s/.test(l))!.trim().split(/\s+/);
    expect(row5.slice(0, 3)).toEqual(['5', 'entry', '1']); // slot 0 emptied: retval 1, as run 0
    expect(r.stdout).toMatch(/1 of 3 run\(s\) failed a check or ended with an error \(step 3\)/);
    const doc = JSON.parse((await scenario('programs/selftests/tailcall_bpf2bpf_hierarchy1.json', '--budget-ms', '100', '--json')).stdout);
    expect(doc.runs.map((x: { error: { kind: string } | null }) => x.error?.kind ?? null)).toEqual([null, 'budget', null]);
  });

  it('a run of a program the verifier rejected ends with a load error carrying its message', async () => {
    // programs/expected/5.10.223/reject_stack256.stderr.txt
    const message = 'tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large';
    expect(readFileSync(join(EXPECTED, 'reject_stack256.stderr.txt'), 'utf8')).toContain(`the verifier rejected entry:\n${message}\n`);
    const r = await scenario('programs/reject_stack256.json');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`load error: entry: ${message}`);
    expect(r.stdout).toContain(`error (load): ${message}`);
  });
});

describe('tailjit scenario: exit status 2 for bad input, naming the step', () => {
  const base = { object: obj('tail_direct'), entry: 'entry' };
  it.each([
    ['a missing object', { object: join(tmp, 'nope.bpf.o'), entry: 'entry', steps: [] }, /nope\.bpf\.o/],
    ['an entry the object does not have', { ...base, entry: 'nope', steps: [] }, /"entry": no program named nope/],
    ['a run of a program the object does not have', { ...base, steps: [{ run: {} }, { run: { prog: 'nope' } }] }, /step 1 \(run\): no program named nope/],
    ['a slot filled with a program the object does not have', { ...base, steps: [{ set: { map: 'jmp_table', slot: 0, prog: 'nope' } }] }, /step 0 \(set\): no program named nope/],
    ['a map the object does not have', { ...base, steps: [{ set: { map: 'nomap', slot: 0, prog: 'entry' } }] }, /step 0 \(set\): no map named nomap/],
    ['a variable the object does not have', { ...base, steps: [{ reset: {} }, { setvar: { name: 'nope', value: 1 } }] }, /step 1 \(setvar\): no writable global variable nope/],
    ['an unknown action', { ...base, steps: [{ run: {} }, { jump: {} }] }, /step 1: unknown action "jump"/],
    ['an invalid value in a step', { ...base, steps: [{ run: { repeat: 'x' } }] }, /step 0 \(run\): "repeat" must be an integer/],
    ['deleting an empty slot (ENOENT)', { ...base, steps: [{ del: { map: 'jmp_table', slot: 0 } }] }, /step 0 \(del\): slot 0 of jmp_table is empty \(ENOENT\)/],
    ['a slot past max_entries', { ...base, steps: [{ set: { map: 'jmp_table', slot: 99, prog: 'entry' } }] }, /step 0 \(set\): slot 99 of jmp_table: max_entries is \d+ \(E2BIG\)/],
  ])('refuses %s', async (_what, doc, message) => {
    const f = scenarioFile(doc);
    const r = await scenario(f);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('refuses a file that is not JSON, with its line and column', async () => {
    const f = join(tmp, 'bad.json');
    writeFileSync(f, '{\n  "object": ,\n}');
    const r = await scenario(f);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.json:2:\d+: error:/);
  });

  it('refuses a missing scenario file and bad options', async () => {
    expect((await scenario(join(tmp, 'none.json'))).stderr).toMatch(/cannot read .*none\.json/);
    expect((await scenario('programs/sub_twice.json', '--budget-ms', '0')).status).toBe(2);
    expect((await scenario('programs/sub_twice.json', '--profile', 'linux-4.19')).status).toBe(2);
    expect((await scenario()).status).toBe(2);
  });
});
