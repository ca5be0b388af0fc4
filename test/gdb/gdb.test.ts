// The real gdb (Debian's, /usr/bin/gdb) in batch mode against `tailjit gdbserver`, started by
// the test on a free loopback port, with the ELF file `tailjit symbols` writes: breakpoints at
// the tail-call landing (bpf_func + X86_TAIL_CALL_OFFSET, tailcalls.md §1.4) hit once per run
// of a self-tail-calling program with the count in rax's high dword (§1.5), backtraces through a
// tail call from a subprogram with names and source lines, stepping over a tail call, a
// watchpoint, and the end of the scenario as an exit with the last return value.

import { describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { captureIo } from '../../cli/io.js';
import { CodeMap, globalVariables } from '../../emu/debug/code-map.js';
import { loadMachine } from '../../emu/debug/harness-target.js';
import { readDebugInput } from '../../emu/debug/plan.js';

const ROOT = join(import.meta.dirname, '../..');
const GDB = ['/usr/bin/gdb', '/usr/local/bin/gdb'].find((p) => existsSync(p));
const TAIL_CALL_OFFSET = 11; // X86_TAIL_CALL_OFFSET

interface Served {
  readonly output: string;
  readonly status: number;
  readonly serverLog: string;
}

/** Starts `tailjit gdbserver --port 0 SCENARIO` in-process, runs gdb with `script` (PORT replaced) against it. */
async function withGdb(scenario: string, script: string): Promise<Served> {
  const io = captureIo(ROOT);
  const server = main(['gdbserver', '--port', '0', scenario], io);
  let port: string | undefined;
  for (let i = 0; i < 200 && port === undefined; i++) {
    port = /listening on 127\.0\.0\.1:(\d+)/.exec(io.stderr)?.[1];
    if (port === undefined) await new Promise((r) => setTimeout(r, 25));
  }
  if (port === undefined) throw new Error(`the gdbserver did not start: ${io.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'tailjit-gdb-'));
  const file = join(dir, 'script.gdb');
  writeFileSync(file, `set pagination off\nset confirm off\ntarget remote 127.0.0.1:${port}\n${script}\n`);
  const output = await new Promise<string>((resolve) => {
    execFile(GDB!, ['-batch', '-nx', '-x', file], { timeout: 60_000 }, (_err, stdout, stderr) => resolve(stdout + stderr));
  });
  // gdb has disconnected (or never connected): the session must be over within a few seconds.
  const status = await Promise.race([server, new Promise<number>((_r, reject) => setTimeout(() => reject(new Error(`the gdbserver did not end after gdb exited:\n${output}\n${io.stderr}`)), 10_000))]);
  return { output, status, serverLog: io.stderr };
}

async function symbolFile(scenario: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tailjit-syms-'));
  const out = join(dir, 'syms.elf');
  const io = captureIo(ROOT);
  expect(await main(['symbols', scenario, '-o', out], io)).toBe(0);
  return out;
}

/** The machine's addresses for the same load the gdbserver does (it is deterministic). */
function layout(scenario: string) {
  const m = loadMachine(readDebugInput(join(ROOT, scenario)));
  try {
    const code = new CodeMap(m);
    const vars = globalVariables(m);
    const sites = [...m.programs.values()].flatMap((p) => p.sites.map((s) => ({ prog: p.name, func: s.func.name, kind: s.kind, jump: s.jump })));
    return { image: (n: string) => code.imagesNamed(n)[0].address, variable: (n: string) => vars.find((v) => v.name === n)!.address, sites };
  } finally {
    m.close();
  }
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

describe.skipIf(!GDB)('gdb against tailjit gdbserver', () => {
  test('self_tail: the landing at loop_direct + 11 is hit 34 times in run 1, the count 0..33 in rax[63:32]', async () => {
    const syms = await symbolFile('programs/self_tail.json');
    const l = layout('programs/self_tail.json');
    const runs = hex(l.variable('direct_runs'));
    const r = await withGdb('programs/self_tail.json', `
symbol-file ${syms}
printf "START %lx\\n", $pc
break *(loop_direct + ${TAIL_CALL_OFFSET})
set $i = 0
while $i < 34
  continue
  printf "HIT %d %d %d\\n", $i, (unsigned long)$rax >> 32, *(unsigned int *)${runs}
  set $i = $i + 1
end
continue
printf "NEXT %lx\\n", $pc
kill`);
    // Stopped before the first instruction of run 1: loop_direct's bpf_func.
    expect(r.output).toContain(`START ${l.image('loop_direct').toString(16)}`);
    const hits = [...r.output.matchAll(/^HIT (\d+) (\d+) (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
    // Hit 0 is the run's own entry (rax = 0 after xor eax,eax); hits 1..33 are the 33 tail
    // calls (§8.1), each handing over the count so far, which is also how many runs the
    // program has counted in direct_runs before this one.
    expect(hits).toEqual(Array.from({ length: 34 }, (_, i) => [i, i, i]));
    // Run 1 returned 34; run 2 starts stopped at bpf_func again.
    expect(r.output).toContain('tailjit: run 1 of loop_direct returned 34');
    expect(r.output).toContain(`NEXT ${l.image('loop_direct').toString(16)}`);
    expect(r.status).toBe(0);
  });

  test('tail_from_sub: bt at target shows it in deep\'s place under middle and entry, with source lines', async () => {
    const syms = await symbolFile('programs/tail_from_sub.json');
    const r = await withGdb('programs/tail_from_sub.json', `
symbol-file ${syms}
break target
continue
continue
bt
printf "OFF %d\\n", $pc - (unsigned long)&target
kill`);
    // `break target` goes after the prologue (the line table's prologue_end): target+11, where
    // a tail call lands. Run 1 (every slot empty) never reaches it; run 2 does, from deep.
    expect(r.output).toMatch(/Breakpoint 1 at 0x[0-9a-f]+: file \.\/tail_from_sub\.bpf\.c, line 61\./);
    expect(r.output).toContain('tailjit: run 1 of entry returned 73');
    const bt = r.output.split('\n').filter((line) => /^#\d/.test(line));
    expect(bt).toHaveLength(4);
    expect(bt[0]).toMatch(/^#0 +target \(\) at \.\/tail_from_sub\.bpf\.c:61$/); // target_runs++;
    expect(bt[1]).toMatch(/^#1 +0x[0-9a-f]+ in middle \(\) at \.\/tail_from_sub\.bpf\.c:33$/); // m[0] = deep(skb);
    expect(bt[2]).toMatch(/^#2 +0x[0-9a-f]+ in entry \(\) at \.\/tail_from_sub\.bpf\.c:53$/); // e[0] = middle(skb);
    expect(bt[3]).toMatch(/^#3 +0x[0-9a-f]+ in tailjit_test_run \(\)$/);
    expect(r.output).toContain(`OFF ${TAIL_CALL_OFFSET}`);
  });

  test('tail_from_sub: stepi over deep\'s direct tail call (the jmp at site 2) lands at target + 11', async () => {
    const syms = await symbolFile('programs/tail_from_sub.json');
    const l = layout('programs/tail_from_sub.json');
    const site = l.sites.find((s) => s.func === 'deep' && s.kind === 'direct')!;
    const r = await withGdb('programs/tail_from_sub.json', `
symbol-file ${syms}
break *${hex(site.jump)}
continue
continue
x/i $pc
stepi
printf "OFF %d\\n", $pc - (unsigned long)&target
bt 1
kill`);
    // Run 1: site 2 is a nop5 (slot empty, state C): the breakpoint there is not reached; run 2
    // (slot 0 = target, state B) reaches it and its jmp goes to target + 11 (§5.1).
    expect(r.output).toMatch(new RegExp(`=> ${hex(site.jump)} <deep\\+\\d+>:\\s+jmp\\s+0x[0-9a-f]+ <target\\+11>`));
    expect(r.output).toContain(`OFF ${TAIL_CALL_OFFSET}`);
    expect(r.output).toMatch(/#0 +target \(\) at \.\/tail_from_sub\.bpf\.c:61/);
  });

  test('a hardware watchpoint on direct_runs reports each increment; the scenario ends as an exit with 34', async () => {
    const syms = await symbolFile('programs/self_tail.json');
    const r = await withGdb('programs/self_tail.json', `
symbol-file ${syms}
watch *(unsigned int *)&direct_runs
continue
continue
continue
delete
continue
continue
continue
continue
continue
continue`);
    // Z2 (write watchpoint): each `direct_runs++` of a run, reported after the store.
    const news = [...r.output.matchAll(/New value = (\d+)/g)].map((m) => Number(m[1]));
    expect(news).toEqual([1, 2, 3]);
    expect(r.output).toMatch(/Hardware watchpoint 1: \*\(unsigned int \*\)&direct_runs/);
    // self_tail.json has 4 runs; the last (loop_indirect after a reset) returns 34 = 042 octal.
    expect(r.output).toContain('exited with code 042');
  });
});

describe.skipIf(GDB !== undefined)('gdb against tailjit gdbserver', () => {
  test('skipped: gdb is not installed (apt-get install gdb; scripts/setup.mjs should install it)', () => {
    expect(GDB).toBeUndefined();
  });
});
