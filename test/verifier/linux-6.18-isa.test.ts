// The verifier's answer for programs/isa (cpu v4, load-acquire/store-release) under the
// linux-6.18 profile against the 6.18.44 host's (koracle, programs/isa/expected/host-*): the
// xlated dump instruction for instruction (sdiv/smod get do_misc_fixups' 0 and -1 guards, the
// other instructions stay as written), its length and the stack depth; callx is rejected with
// the host's message.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decode, type Insn } from '../../src/isa/index.js';
import { loadObjectFile } from '../../src/elf/index.js';
import { verify, xlatedForDump, slotCount, VerifierError } from '../../src/verifier/index.js';
import { PROFILES } from '../../src/profile/index.js';
import { jit } from './helpers.js';

const DIR = join(import.meta.dirname, '../../programs/isa');
const HOST = join(DIR, 'expected/host-6.18.44-fc-v669');
const options = { ...jit, profile: PROFILES['linux-6.18'] };

interface HostProgram { name: string; xlated_hex: string; xlated_insn_count: number; verifier_stats: string }

const line = (i: Insn) => `${i.code.toString(16)} r${i.dst} r${i.src} off=${i.off} imm=${i.imm} hi=${i.immHi}`;

describe('programs/isa on the 6.18.44 host: xlated dumps', () => {
  for (const file of readdirSync(HOST).filter((f) => f.endsWith('.json') && f !== 'meta.json')) {
    const name = file.slice(0, -5);
    const doc = JSON.parse(readFileSync(join(HOST, file), 'utf8')) as { programs: HostProgram[] };
    const scen = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as { object: string };
    for (const g of doc.programs) {
      test(`${name}/${g.name}: xlated program, count and stack depth`, () => {
        const obj = loadObjectFile(join(DIR, scen.object));
        const vp = verify(obj.programs.find((p) => p.name === g.name)!, obj, options);
        const kernel = decode(Uint8Array.from(Buffer.from(g.xlated_hex, 'hex')));
        expect(xlatedForDump(vp, () => 0).map(line).join('\n')).toBe(kernel.map(line).join('\n'));
        expect(slotCount(vp)).toBe(g.xlated_insn_count);
        const depths = /stack depth (\S+)/.exec(g.verifier_stats)![1].split('+').map(Number);
        expect(vp.funcs.map((f) => f.stackDepth)).toEqual(depths);
      });
    }
  }
});

describe('what 6.1 says of the same objects', () => {
  test('sdiv is refused (cpu v4 arrived in 6.6)', () => {
    const obj = loadObjectFile(join(DIR, 'sdiv.bpf.o'));
    expect(() => verify(obj.programs[0], obj, { ...jit, profile: PROFILES['linux-6.1'] })).toThrow(VerifierError);
  });
});

describe('rejections with the host\'s messages (expected/host-*/NAME.stderr.txt)', () => {
  // callx (opcode 8d); movsx from 24 bits; a load-acquire through the context; gotol with off 1.
  for (const name of ['callx', 'reject_movsx24', 'reject_acq_ctx', 'reject_gotol_off']) {
    test(name, () => {
      const stderr = readFileSync(join(HOST, `${name}.stderr.txt`), 'utf8');
      const m = new RegExp(`the verifier rejected ${name}:\n(.*)\n`).exec(stderr);
      expect(m).not.toBeNull();
      const obj = loadObjectFile(join(DIR, `${name}.bpf.o`));
      let err: unknown;
      try {
        verify(obj.programs[0], obj, options);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VerifierError);
      expect((err as VerifierError).kernelMessage).toBe(m![1]);
    });
  }
});
