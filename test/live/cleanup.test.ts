// "Nothing left pinned or attached": every program, map and BTF object the live backend
// creates is gone from the kernel once it closes (the ids the kernel lists, BPF_*_GET_NEXT_ID),
// and no pin appears in bpffs. The kernel frees them after an RCU grace period, so the check
// waits a little. Only this object's own ids are followed (other test files load objects of
// their own at the same time).

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Attr, BpfCmd, bpf } from '../../emu/live/bpf.js';
import { liveAvailability, liveObjectIds, LiveObject, runScenarioFileLive } from '../../emu/live/index.js';
import { progInfo } from '../../emu/live/object.js';
import { loadObjectFile } from '../../src/elf/index.js';

const live = liveAvailability();
const ROOT = join(import.meta.dirname, '../..');
const BPFFS = '/sys/fs/bpf';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pins = (): string[] => (existsSync(BPFFS) ? readdirSync(BPFFS, { recursive: true }).map(String).sort() : []);

/** The kernel's id of a map or BTF fd: struct bpf_map_info / bpf_btf_info both have `id` at 4 (the map's after `type`). */
function fdId(fd: number, idOffset: number): number {
  const info = new Attr();
  const a = new Attr().u32(0, fd).u32(4, 64).ptr(8, info.buf);
  try {
    bpf(BpfCmd.OBJ_GET_INFO_BY_FD, a, `info of fd ${fd}`);
    return info.getU32(idOffset);
  } finally {
    a.buf.free();
    info.buf.free();
  }
}

describe.skipIf(!live.ok)(`the live backend leaves nothing behind${live.ok ? '' : ` (skipped: ${live.reason})`}`, () => {
  test('the ids of an open object are listed, and gone after close; no pin appears', async () => {
    const pinsBefore = pins();
    const obj = LiveObject.load(loadObjectFile(join(ROOT, 'programs/sub_twice.bpf.o')));
    let ids: { prog: number[]; map: number[]; btf: number[] };
    try {
      ids = {
        prog: [...obj.programs.values()].map((p) => progInfo(p.fd).id),
        map: obj.maps.map((m) => fdId(m.fd, 4)),
        btf: obj.btfFd !== undefined && obj.btfFd >= 0 ? [fdId(obj.btfFd, 12)] : [],
      };
      // sub_twice.bpf.o: programs entry and once_prog; maps jmp_table and .bss; its BTF.
      expect([ids.prog.length, ids.map.length, ids.btf.length]).toEqual([2, 2, 1]);
      for (const k of ['prog', 'map', 'btf'] as const) expect(liveObjectIds(k)).toEqual(expect.arrayContaining(ids[k]));
      runScenarioFileLive(join(ROOT, 'programs/sub_twice.json')); // a whole scenario besides
    } finally {
      obj.close();
    }
    const still = () => (['prog', 'map', 'btf'] as const).flatMap((k) => liveObjectIds(k).filter((id) => ids[k].includes(id)).map((id) => `${k} ${id}`));
    for (let i = 0; i < 40 && still().length; i++) await sleep(50);
    expect(still()).toEqual([]);
    expect(pins()).toEqual(pinsBefore);
  });
});
