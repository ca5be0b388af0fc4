// The live backend against koracle on this host: the same scenario loaded through libbpf
// (koracle) and through emu/live must give the same return values and globals run by run, and
// the same xlated instructions (modulo map ids) and JIT bytes (modulo addresses). The expected
// values are koracle's answers, run now (or the committed host goldens when koracle is not built).

import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compareResults, liveAvailability, LiveError, LiveObject, mapLookup, maskJited, maskXlated, runScenarioFileLive } from '../../emu/live/index.js';
import { sameScenarioError } from '../../emu/suite/golden.js';
import { collectSuiteFiles } from '../../emu/suite/discover.js';
import { profileForKernelRelease } from '../../src/profile/release.js';
import { kernelRelease } from '../../emu/live/index.js';
import { loadObjectFile } from '../../src/elf/index.js';
import { askKoracle, hostGoldenDir } from './koracle.js';

const live = liveAvailability();
const skipReason = live.ok ? '' : live.reason;
const ROOT = join(import.meta.dirname, '../..');
// Every scenario under programs/ (programs/*.json, selftests/, demo/, isa/).
const ALL = collectSuiteFiles([join(ROOT, 'programs')]).filter((f) => f.kind === 'scenario').map((f) => f.file);
/**
 * Scenarios whose runs never return on a kernel that passes the tail call counter by value
 * (5.10, 6.1: expected/5.10.223 and 6.1.192 record them as hung); a live run would block in
 * the syscall, so they are left out on such a host.
 */
const HANG_BY_VALUE = new Set(['tailcall_bpf2bpf_hierarchy1.json', 'tailcall_bpf2bpf_hierarchy3.json', 'tailcall_bpf2bpf_hierarchy_fentry_fexit.json']);
const byValueHost = (): boolean => {
  try {
    return profileForKernelRelease(kernelRelease()).tailCall.counter === 'by-value';
  } catch {
    return true; // an unmodeled release: be careful
  }
};

describe.skipIf(!live.ok)(`live kernel scenarios ${skipReason}`, () => {
  test('there are scenarios to compare', () => {
    expect(ALL.length).toBeGreaterThanOrEqual(47);
  });

  test.each(ALL.map((f) => [f.slice(ROOT.length + 1), f]))('%s matches koracle', (_name, file) => {
    if (HANG_BY_VALUE.has(file.replace(/^.*\//, '')) && byValueHost()) return;
    const k = askKoracle(file, hostGoldenDir(file));
    if (!k) return; // neither koracle nor a host golden: nothing to compare with
    let result;
    let thrown: Error | undefined;
    try {
      result = runScenarioFileLive(file);
    } catch (e) {
      thrown = e as Error;
    }
    if (k.kind === 'error') {
      // koracle stopped: the verifier refused a program, or the kernel refused a step.
      const message = thrown ? thrown.message : result!.load_errors.map((e) => e.message).join('\n');
      expect(message, `koracle: ${k.stderr}`).not.toBe('');
      expect(sameScenarioError(message, k.stderr), `live: ${message}\nkoracle: ${k.stderr}`).toBe(true);
      return;
    }
    expect(thrown).toBeUndefined();
    expect(result!.load_errors).toEqual([]);
    expect(result!.runs.map((r) => r.step)).toEqual(k.result.runs.map((r) => r.step));
    expect(result!.programs.map((p) => p.name).sort()).toEqual(k.result.programs.map((p) => p.name).sort());
    expect((result!.snapshots ?? []).map((x) => x.step)).toEqual((k.result.snapshots ?? []).map((x) => x.step));
    expect(compareResults(k.result, result!, { names: ['koracle', 'live'] })).toEqual([]);
    // The tag is the kernel's hash of the instructions it was given (map fds zeroed): equal tags
    // mean libbpf and emu/live handed the kernel the same programs.
    for (const p of result!.programs) expect((p as { tag?: string }).tag, p.name).toBe(k.tags.get(p.name));
  });
});

describe.skipIf(!live.ok)('live kernel primitives', () => {
  test('errno of a failed command: a lookup past the end of an array is ENOENT', () => {
    const obj = loadObjectFile(join(ROOT, 'programs/globals.bpf.o'));
    const lo = LiveObject.load(obj);
    try {
      // A slot past max_entries of an array: the kernel's array_map_lookup_elem gives ENOENT.
      const m = lo.maps.find((x) => x.spec.section === '.bss')!;
      expect(() => lo.readMap(m.spec.name, 7)).toThrow(/ENOENT/);
      try {
        lo.readMap(m.spec.name, 7);
      } catch (e) {
        expect(e).toBeInstanceOf(LiveError);
        expect((e as LiveError).errno).toBe(2);
        expect((e as LiveError).errnoName).toBe('ENOENT');
      }
    } finally {
      lo.close();
    }
  });

  test('errno of a failed command: a lookup in an fd that is not open is EBADF', () => {
    // fdget() finds no file: __bpf_map_get's -EBADF (kernel/bpf/syscall.c).
    let err: unknown;
    try {
      mapLookup(9999, 0, 4, 'fd 9999');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LiveError);
    expect((err as LiveError).errno).toBe(9);
    expect((err as LiveError).message).toMatch(/BPF_MAP_LOOKUP_ELEM \(fd 9999\) failed: EBADF: Bad file descriptor/);
  });

  test('a program the verifier refuses is a failure with the verifier\'s message', () => {
    // reject_depth.bpf.c: koracle's host answer is a refusal (programs/expected has none for 6.18;
    // the message is the kernel's "combined stack size" check).
    const lo = LiveObject.load(loadObjectFile(join(ROOT, 'programs/reject_depth.bpf.o')));
    try {
      expect(lo.failures.size).toBeGreaterThan(0);
      for (const f of lo.failures.values()) {
        expect(f.code).toBe('live.rejected');
        expect(f.log).toMatch(/processed \d+ insns/);
      }
    } finally {
      lo.close();
    }
  });
});

describe.skipIf(!live.ok)('the comparison is not vacuous', () => {
  test('two loads of one scenario: other addresses, the same answer modulo addresses', () => {
    const file = join(ROOT, 'programs/tail_from_sub.json');
    const a = runScenarioFileLive(file), b = runScenarioFileLive(file);
    // Each load puts the images elsewhere (fresh ksyms), so the masking has work to do.
    expect(a.programs[0].jited_ksyms).not.toEqual(b.programs[0].jited_ksyms);
    expect(a.programs[0].jited_hex).not.toBe(b.programs[0].jited_hex);
    expect(compareResults(a, b)).toEqual([]);
  });

  test('a changed retval, global, xlated instruction or JIT byte is reported', () => {
    const a = runScenarioFileLive(join(ROOT, 'programs/calls.json'));
    const b = structuredClone(a);
    b.runs[0].retval = (b.runs[0].retval ?? 0) + 1;
    const g = Object.keys(b.runs[1].globals)[0];
    b.runs[1].globals[g] = 12345;
    // The first instruction of each image (a nop5 or endbr; never an address).
    b.programs[0].jited_hex = 'cc' + b.programs[0].jited_hex.slice(2);
    b.programs[0].xlated_hex = '07' + b.programs[0].xlated_hex.slice(2);
    const kinds = compareResults(a, b).map((d) => `${d.kind} ${d.where}`);
    expect(kinds).toEqual([
      'retval step 0 (run two_levels)'.replace('two_levels', a.runs[0].prog),
      `global step ${a.runs[1].step} (run ${a.runs[1].prog})`,
      `xlated program ${a.programs[0].name}`,
      `jited program ${a.programs[0].name}, function 0 at +0x0`,
    ]);
  });
});

describe('masking', () => {
  // 48 b8 imm64 (movabs rax, 0xffff888012345678); e8 rel32 leaving the 15-byte function; c3.
  const image = '48b8785634128088ffff' + 'e800100000' + 'c3';
  test('movabs of a kernel address and a call leaving the function are masked', () => {
    const [f] = maskJited(image, [16], ['0xffffffffc0000000']);
    expect(f.join('')).toBe('48b8' + '..'.repeat(8) + 'e8' + '..'.repeat(4) + 'c3');
  });
  test('a constant and a jump inside the function are kept', () => {
    // movabs rax, 0x1122334455667788; jmp +0 (eb 00); c3
    const [f] = maskJited('48b88877665544332211' + 'eb00' + 'c3', [13], ['0xffffffffc0000000']);
    expect(f.join('')).toBe('48b88877665544332211eb00c3');
  });
  test('xlated: the map id of a map load is masked, its offset and other instructions are not', () => {
    // r1 = map_value(id 7) + 16 (18 21 .. imm=7 / imm=16), exit
    const x = maskXlated('1821000007000000' + '0000000010000000' + '9500000000000000');
    expect(x).toEqual(['18210000........', '0000000010000000', '9500000000000000']);
  });
  test('xlated: a helper call\'s address offset and a kernel-address constant are masked, a helper id and a small constant are not', () => {
    // call 0x00123456 (an offset from __bpf_call_base); call 12 (the dump's tail call);
    // r0 = 0xffffffff83609980 (&jiffies); r0 = 0x100000000
    const x = maskXlated('8500000056341200' + '850000000c000000' + '1800000080996083' + '00000000ffffffff' + '1800000000000000' + '0000000001000000');
    expect(x).toEqual(['85000000........', '850000000c000000', '18000000........', '00000000........', '1800000000000000', '0000000001000000']);
  });
});
