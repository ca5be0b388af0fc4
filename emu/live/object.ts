// An ELF object (as src/elf parsed it) loaded into the running kernel the way libbpf 1.1 loads
// it for koracle: BTF first (src/elf's libbpf fix-ups already applied), then every map in
// object order (the global-data maps filled with their initial bytes, `.rodata` frozen), then
// every program with its map references turned into fds, func_info and line_info from
// .BTF.ext, then the prog-array slots declared with `__array(values, ...)`. A program the
// verifier refuses is recorded in `failures` and the others still load (libbpf would give up
// on the whole object; koracle then reports nothing but the refusal).

import { decodeGlobals, findWritableGlobal, globalMaps, integerBytes, isWritableGlobalMap, MapType, toHex, type GlobalsSnapshot, type MapSpec, type ObjectFile, type ProgramSpec, type ProgTypeName } from '../../src/elf/index.js';
import { encode, type Insn } from '../../src/isa/insn.js';
import type { ScenarioProgram } from '../scenario.js';
import { Attr, BpfCmd, bpf, bpfRaw, closeFd, commandError, errnoMessage, errnoName, LiveError, NativeBuf, requireLive, withBufs } from './bpf.js';
import { encodeBtf, funcInfoRecords, lineInfoRecords, type StringTable } from './btf.js';

/** enum bpf_prog_type values. */
const PROG_TYPE: Record<ProgTypeName, number> = { socket_filter: 1, sched_cls: 3, xdp: 6 };
/** libbpf 1.1's expected_attach_type per program type (SEC("xdp") is BPF_XDP, the rest 0). */
const EXPECTED_ATTACH: Record<ProgTypeName, number> = { socket_filter: 0, sched_cls: 0, xdp: 37 };

const PSEUDO_MAP_FD = 1, PSEUDO_MAP_VALUE = 2;
/** Enough for any level-1 log of the programs tailjit runs; the kernel caps it at 1 GiB. */
const LOG_SIZE = 16 << 20;
/** BPF_LOG_STATS: the statistics koracle asks for (and the stack depths in them). */
const LOG_STATS = 4;

export interface LiveProgram {
  readonly name: string;
  readonly section: string;
  readonly type: ProgTypeName;
  readonly fd: number;
  /** The verifier's statistics (log level 4), e.g. "stack depth 16+0". */
  readonly stats: string;
  readonly spec: ProgramSpec;
}

export interface LiveMap {
  readonly spec: MapSpec;
  readonly fd: number;
  /** Whether the map carries BTF key/value types (libbpf retries without them on failure). */
  readonly withBtf: boolean;
}

/** emu/scenario.ts's program entry plus what koracle also reports: the kernel's id, tag and count of verified instructions. */
export type LiveScenarioProgram = ScenarioProgram & { id: number; tag: string; verified_insns: number };

export interface LiveRunRequest {
  /** A zeroed packet of this many bytes (koracle: 64 for packet programs, the default here). */
  readonly dataSize?: number;
  /** The packet's bytes instead of zeros. */
  readonly data?: Uint8Array;
  /** ctx_in, for program types that take one. */
  readonly ctx?: Uint8Array;
  readonly repeat?: number;
}

export interface LiveRunResult {
  /** The low 32 bits of r0, as BPF_PROG_TEST_RUN reports it. */
  readonly retval: number;
  /** The kernel's average time per repetition. */
  readonly duration_ns: number;
}

export class LiveObject {
  readonly object: ObjectFile;
  readonly maps: LiveMap[] = [];
  readonly programs = new Map<string, LiveProgram>();
  readonly failures = new Map<string, LiveError>();
  /** BTF fd, or -1 when there is no BTF or the kernel refused it (libbpf then goes on without). */
  btfFd = -1;
  /** Why the kernel refused the object's BTF, when it did. */
  btfError: LiveError | undefined;
  #strings: StringTable | undefined;
  #closed = false;

  private constructor(obj: ObjectFile) {
    this.object = obj;
  }

  /** Loads `obj` into the running kernel. Throws LiveError 'live.unavailable' without bpf(). */
  static load(obj: ObjectFile): LiveObject {
    requireLive();
    const lo = new LiveObject(obj);
    try {
      lo.#loadBtf();
      for (const spec of obj.maps) lo.#createMap(spec);
      for (const spec of obj.programs) {
        try {
          lo.#loadProgram(spec);
        } catch (e) {
          if (!(e instanceof LiveError) || e.code !== 'live.rejected') throw e;
          lo.failures.set(spec.name, e);
        }
      }
      obj.maps.forEach((m, i) => {
        m.values?.forEach((prog, slot) => {
          if (prog !== null && lo.programs.has(prog)) lo.#updateSlotAt(i, slot, prog);
        });
      });
      return lo;
    } catch (e) {
      lo.close();
      throw e;
    }
  }

  // --- loading -------------------------------------------------------------------------------

  #loadBtf(): void {
    const btf = this.object.btf;
    if (!btf) return;
    const lines = this.object.programs.flatMap((p) => p.lineInfo.flatMap((l) => [l.file, l.text]));
    const enc = encodeBtf(btf, lines);
    const r = withBufs((alloc) => {
      const blob = alloc(enc.bytes);
      const tryLoad = (log: NativeBuf | null) => {
        const a = new Attr().ptr(0, blob).ptr(8, log).u32(16, enc.bytes.length).u32(20, log ? log.bytes.length : 0).u32(24, log ? 1 : 0);
        try {
          return bpfRaw(BpfCmd.BTF_LOAD, a);
        } finally {
          a.buf.free();
        }
      };
      const first = tryLoad(null);
      if (first.ret >= 0 || first.errno === 1) return { ...first, log: '' };
      const log = alloc(1 << 20);
      const again = tryLoad(log);
      return { ...again, log: cstr(log.bytes) };
    });
    if (r.ret >= 0) {
      this.btfFd = r.ret;
      this.#strings = enc.strings;
      return;
    }
    if (r.errno === 1) throw commandError(BpfCmd.BTF_LOAD, r.errno, 'the object\'s BTF');
    // libbpf: "Error loading .BTF into kernel ... BTF is optional, ignoring."
    this.btfError = new LiveError('live.btf', `the kernel refused the object's BTF: ${errnoName(r.errno)}: ${lastLogLine(r.log) || errnoMessage(r.errno)}`, { errno: r.errno, log: r.log });
  }

  #createMap(spec: MapSpec): void {
    // libbpf gives BTF key/value types to maps that have them, except the types that take none
    // (prog arrays here), and retries without BTF when the kernel refuses them.
    const btfIds = this.btfFd >= 0 && spec.type !== MapType.PROG_ARRAY && (spec.btfKeyTypeId || spec.btfValueTypeId);
    const attempt = (withBtf: boolean) => {
      const a = new Attr().u32(0, spec.type).u32(4, spec.keySize).u32(8, spec.valueSize).u32(12, spec.maxEntries).u32(16, spec.flags).name(28, spec.name);
      if (withBtf) a.u32(48, this.btfFd).u32(52, spec.btfKeyTypeId ?? 0).u32(56, spec.btfValueTypeId ?? 0);
      try {
        return bpfRaw(BpfCmd.MAP_CREATE, a);
      } finally {
        a.buf.free();
      }
    };
    let r = attempt(Boolean(btfIds));
    let withBtf = Boolean(btfIds);
    if (r.ret < 0 && withBtf && r.errno !== 1) {
      r = attempt(false);
      withBtf = false;
    }
    if (r.ret < 0) throw commandError(BpfCmd.MAP_CREATE, r.errno, `map ${spec.name}`);
    this.maps.push({ spec, fd: r.ret, withBtf });
    if (spec.section !== undefined) {
      this.#writeValue(r.ret, 0, spec.initial ?? new Uint8Array(spec.valueSize), `map ${spec.name}`);
      if (spec.frozen) {
        const a = new Attr().u32(0, r.ret);
        try {
          bpf(BpfCmd.MAP_FREEZE, a, `map ${spec.name}`);
        } finally {
          a.buf.free();
        }
      }
    }
  }

  /** The program's instructions with map indices replaced by this object's map fds. */
  #relocated(spec: ProgramSpec): Insn[] {
    return spec.insns.map((i) => {
      if (i.code !== 0x18 || (i.src !== PSEUDO_MAP_FD && i.src !== PSEUDO_MAP_VALUE)) return i;
      const m = this.maps[i.imm];
      if (!m) throw new LiveError('live.object', `program ${spec.name}: map index ${i.imm} is not a map of the object`);
      return { ...i, imm: m.fd };
    });
  }

  #loadProgram(spec: ProgramSpec): void {
    const btf = this.btfFd >= 0 && this.#strings !== undefined;
    const r = progLoad({
      name: spec.name, type: spec.type, insns: encode(this.#relocated(spec)), license: spec.license,
      ...(btf ? {
        btfFd: this.btfFd,
        ...(spec.funcs.length ? { funcInfo: funcInfoRecords(spec.funcs) } : {}),
        ...(spec.lineInfo.length ? { lineInfo: lineInfoRecords(spec.lineInfo, this.#strings!) } : {}),
      } : {}),
    });
    this.programs.set(spec.name, { name: spec.name, section: spec.section, type: spec.type, fd: r.fd, stats: r.stats, spec });
  }

  // --- maps ----------------------------------------------------------------------------------

  map(name: string): LiveMap {
    const m = this.maps.find((x) => x.spec.name === name);
    if (!m) throw new LiveError('live.unknown', `no map named ${name} (known: ${this.maps.map((x) => x.spec.name).join(', ') || 'none'})`);
    return m;
  }

  program(name: string): LiveProgram {
    const p = this.programs.get(name);
    if (p) return p;
    const f = this.failures.get(name);
    if (f) throw new LiveError('live.not-loaded', `program ${name} did not load: ${f.message}`);
    throw new LiveError('live.unknown', `no program named ${name} (known: ${[...this.programs.keys()].join(', ') || 'none'})`);
  }

  #writeValue(fd: number, key: number, value: Uint8Array, what: string): void {
    mapUpdate(fd, key, value, what);
  }

  /** The value at a 32-bit `key` of an array map. */
  readMap(name: string, key = 0): Uint8Array {
    const m = this.map(name);
    return mapLookup(m.fd, key, m.spec.valueSize, `map ${name}[${key}]`);
  }

  /** Writes the value at a 32-bit `key` of an array map. */
  writeMap(name: string, value: Uint8Array, key = 0): void {
    const m = this.map(name);
    if (value.length !== m.spec.valueSize) throw new LiveError('live.bad-request', `map ${name}: a value is ${m.spec.valueSize} bytes, not ${value.length}`);
    this.#writeValue(m.fd, key, value, `map ${name}[${key}]`);
  }

  /** `map[slot] = prog`, or deletes the slot (`prog` null; ENOENT when it is empty). */
  updateSlot(mapName: string, slot: number, prog: string | null): void {
    const i = this.maps.findIndex((x) => x.spec.name === mapName);
    if (i < 0) this.map(mapName);
    this.#updateSlotAt(i, slot, prog);
  }

  #updateSlotAt(i: number, slot: number, prog: string | null): void {
    const m = this.maps[i];
    const what = `slot ${slot} of ${m.spec.name}`;
    withBufs((alloc) => {
      const k = alloc(4);
      k.view.setUint32(0, slot, true);
      if (prog === null) {
        const a = new Attr().u32(0, m.fd).ptr(8, k);
        try {
          bpf(BpfCmd.MAP_DELETE_ELEM, a, what);
        } finally {
          a.buf.free();
        }
        return;
      }
      const v = alloc(4);
      v.view.setUint32(0, this.program(prog).fd, true);
      const a = new Attr().u32(0, m.fd).ptr(8, k).ptr(16, v).u64(24, 0n);
      try {
        bpf(BpfCmd.MAP_UPDATE_ELEM, a, `${what} = ${prog}`);
      } finally {
        a.buf.free();
      }
    });
  }

  // --- global data ---------------------------------------------------------------------------

  /** Writes an integer global of a writable section (`name` or `section:name`), as koracle does. */
  setvar(name: string, value: bigint | number): void {
    const g = findWritableGlobal(this.object, name);
    if (!g.ok) throw new LiveError(`live.${g.reason}`, g.message);
    const bytes = this.readMap(g.spec.name);
    bytes.set(integerBytes(value, g.size), g.offset);
    this.writeMap(g.spec.name, bytes);
  }

  /** The writable sections back to their contents in the ELF file (`.bss` zeroed). */
  reset(): void {
    for (const spec of globalMaps(this.object)) {
      if (isWritableGlobalMap(spec)) this.writeMap(spec.name, spec.initial ?? new Uint8Array(spec.valueSize));
    }
  }

  globals(): GlobalsSnapshot {
    const contents = new Map<string, Uint8Array>();
    for (const spec of globalMaps(this.object)) contents.set(spec.section ?? spec.name, this.readMap(spec.name));
    return decodeGlobals(this.object, contents);
  }

  // --- running -------------------------------------------------------------------------------

  /** BPF_PROG_TEST_RUN as koracle runs it: a zeroed packet of `dataSize` bytes, `repeat` times. */
  run(progName: string, req: LiveRunRequest = {}): LiveRunResult {
    const p = this.program(progName);
    return testRun(p.fd, req, progName);
  }

  // --- what the kernel made of a program -----------------------------------------------------

  /** The program as koracle's `programs` entries describe it, from BPF_OBJ_GET_INFO_BY_FD. */
  programInfo(name: string): LiveScenarioProgram {
    const p = this.program(name);
    const info = progInfo(p.fd);
    return {
      name: p.name, section: p.section, type: p.type,
      id: info.id, tag: info.tag, verified_insns: info.verifiedInsns,
      xlated_insn_count: info.xlated.length / 8,
      jited_len: info.jited.length,
      jited_func_lens: info.funcLens,
      jited_ksyms: info.ksyms.map((a) => `0x${a.toString(16)}`),
      stack_depths: stackDepths(p.stats),
      // Not reported by the kernel.
      tail_call_reachable: [],
      map_ids: info.mapIds,
      xlated_hex: toHex(info.xlated),
      jited_hex: toHex(info.jited),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.programs.values()) closeFd(p.fd);
    for (const m of this.maps) closeFd(m.fd);
    closeFd(this.btfFd);
  }
}

export interface ProgLoadRequest {
  readonly name: string;
  readonly type: ProgTypeName;
  /** Encoded `struct bpf_insn` slots, map fds already in place. */
  readonly insns: Uint8Array;
  readonly license: string;
  readonly btfFd?: number;
  /** bpf_func_info records (8 bytes each) and bpf_line_info records (16 bytes each). */
  readonly funcInfo?: Uint8Array;
  readonly lineInfo?: Uint8Array;
}

/**
 * BPF_PROG_LOAD as libbpf 1.1 issues it for koracle (log level 4: statistics only). A refusal
 * is loaded again with the level-1 log, and thrown as LiveError 'live.rejected' with the
 * verifier's reason (the log's last line before its statistics) and the whole log.
 */
export function progLoad(req: ProgLoadRequest): { fd: number; stats: string } {
  const result = withBufs((alloc) => {
    const insns = alloc(req.insns);
    const license = alloc(new TextEncoder().encode(`${req.license}\0`));
    const funcInfo = req.funcInfo?.length ? alloc(req.funcInfo) : null;
    const lineInfo = req.lineInfo?.length ? alloc(req.lineInfo) : null;
    const attempt = (level: number, log: NativeBuf) => {
      const a = new Attr()
        .u32(0, PROG_TYPE[req.type]).u32(4, req.insns.length / 8).ptr(8, insns).ptr(16, license)
        .u32(24, level).u32(28, log.bytes.length).ptr(32, log)
        .name(48, req.name).u32(68, EXPECTED_ATTACH[req.type]);
      if (req.btfFd !== undefined && req.btfFd >= 0) {
        a.u32(72, req.btfFd);
        if (funcInfo) a.u32(76, 8).ptr(80, funcInfo).u32(88, funcInfo.bytes.length / 8);
        if (lineInfo) a.u32(92, 16).ptr(96, lineInfo).u32(104, lineInfo.bytes.length / 16);
      }
      try {
        log.bytes[0] = 0;
        return bpfRaw(BpfCmd.PROG_LOAD, a);
      } finally {
        a.buf.free();
      }
    };
    const stats = alloc(64 << 10);
    const r = attempt(LOG_STATS, stats);
    if (r.ret >= 0 || r.errno === 1) return { ...r, log: cstr(stats.bytes) };
    // Refused: load again with the full (level 1) log for the verifier's reason.
    const full = alloc(LOG_SIZE);
    const again = attempt(1, full);
    if (again.ret >= 0) return { ...again, log: cstr(stats.bytes) };
    return { ...again, log: cstr(full.bytes) || cstr(stats.bytes) };
  });
  if (result.ret >= 0) return { fd: result.ret, stats: result.log };
  if (result.errno === 1 && !result.log) throw commandError(BpfCmd.PROG_LOAD, result.errno, `program ${req.name}`);
  const why = lastLogLine(result.log) || `${errnoName(result.errno)}: ${errnoMessage(result.errno)}`;
  throw new LiveError('live.rejected', `the kernel's verifier rejected ${req.name}: ${why}`, { errno: result.errno, log: result.log });
}

/** A plain array map (no BTF) of `maxEntries` values of `valueSize` bytes; returns its fd. */
export function createArrayMap(name: string, valueSize: number, maxEntries = 1): number {
  const a = new Attr().u32(0, MapType.ARRAY).u32(4, 4).u32(8, valueSize).u32(12, maxEntries).name(28, name);
  try {
    return bpf(BpfCmd.MAP_CREATE, a, `map ${name}`);
  } finally {
    a.buf.free();
  }
}

/** Writes or reads the value at a 32-bit key of a map fd. */
export function mapUpdate(fd: number, key: number, value: Uint8Array, what: string): void {
  withBufs((alloc) => {
    const k = alloc(4);
    k.view.setUint32(0, key, true);
    const v = alloc(value);
    const a = new Attr().u32(0, fd).ptr(8, k).ptr(16, v).u64(24, 0n);
    try {
      bpf(BpfCmd.MAP_UPDATE_ELEM, a, what);
    } finally {
      a.buf.free();
    }
  });
}

export function mapLookup(fd: number, key: number, valueSize: number, what: string): Uint8Array {
  return withBufs((alloc) => {
    const k = alloc(4);
    k.view.setUint32(0, key, true);
    const v = alloc(valueSize);
    const a = new Attr().u32(0, fd).ptr(8, k).ptr(16, v);
    try {
      bpf(BpfCmd.MAP_LOOKUP_ELEM, a, what);
    } finally {
      a.buf.free();
    }
    return v.copy();
  });
}

/** One BPF_PROG_TEST_RUN of a loaded program fd. */
export function testRun(fd: number, req: LiveRunRequest, what: string): LiveRunResult {
  const data = req.data ?? new Uint8Array(req.dataSize ?? 64);
  return withBufs((alloc) => {
    const d = data.length ? alloc(data) : null;
    const ctx = req.ctx?.length ? alloc(req.ctx) : null;
    const a = new Attr().u32(0, fd).u32(8, data.length).ptr(16, d).u32(32, req.repeat ?? 1);
    if (ctx) a.u32(40, ctx.bytes.length).ptr(48, ctx);
    try {
      bpf(BpfCmd.PROG_TEST_RUN, a, `test run of ${what}`);
      return { retval: a.getU32(4), duration_ns: a.getU32(36) };
    } finally {
      a.buf.free();
    }
  });
}

export interface ProgInfo {
  readonly type: number;
  readonly id: number;
  readonly tag: string;
  readonly xlated: Uint8Array;
  readonly jited: Uint8Array;
  readonly funcLens: number[];
  readonly ksyms: bigint[];
  readonly mapIds: number[];
  readonly verifiedInsns: number;
}

/** BPF_OBJ_GET_INFO_BY_FD twice, as bpftool does: the counts first, then the arrays. */
export function progInfo(fd: number): ProgInfo {
  const INFO = 232;
  return withBufs((alloc) => {
    const get = (info: NativeBuf) => {
      const a = new Attr().u32(0, fd).u32(4, INFO).ptr(8, info);
      try {
        bpf(BpfCmd.OBJ_GET_INFO_BY_FD, a, `program fd ${fd}`);
      } finally {
        a.buf.free();
      }
    };
    const first = alloc(INFO);
    get(first);
    const f = first.view;
    const jitLen = f.getUint32(16, true), xlLen = f.getUint32(20, true);
    const nMaps = f.getUint32(52, true), nKsyms = f.getUint32(104, true), nLens = f.getUint32(108, true);
    const info = alloc(INFO);
    const jited = alloc(jitLen), xlated = alloc(xlLen), maps = alloc(nMaps * 4), ksyms = alloc(nKsyms * 8), lens = alloc(nLens * 4);
    const v = info.view;
    v.setUint32(16, jitLen, true); v.setBigUint64(24, jited.ptr, true);
    v.setUint32(20, xlLen, true); v.setBigUint64(32, xlated.ptr, true);
    v.setUint32(52, nMaps, true); v.setBigUint64(56, maps.ptr, true);
    v.setUint32(104, nKsyms, true); v.setBigUint64(112, ksyms.ptr, true);
    v.setUint32(108, nLens, true); v.setBigUint64(120, lens.ptr, true);
    get(info);
    const n = (off: number, cap: number) => Math.min(v.getUint32(off, true), cap);
    return {
      type: v.getUint32(0, true), id: v.getUint32(4, true), tag: toHex(info.bytes.slice(8, 16)),
      xlated: xlated.copy(n(20, xlLen)), jited: jited.copy(n(16, jitLen)),
      funcLens: Array.from({ length: n(108, nLens) }, (_, i) => lens.view.getUint32(i * 4, true)),
      ksyms: Array.from({ length: n(104, nKsyms) }, (_, i) => ksyms.view.getBigUint64(i * 8, true)),
      mapIds: Array.from({ length: n(52, nMaps) }, (_, i) => maps.view.getUint32(i * 4, true)),
      verifiedInsns: v.getUint32(216, true),
    };
  });
}


export function cstr(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(b.subarray(0, end < 0 ? b.length : end));
}

/**
 * The verifier's reason in a log: its last line that is not one of the statistics lines the
 * kernel appends ("processed N insns ...", "verification time", "stack depth").
 */
export function lastLogLine(log: string): string {
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  const stat = /^(processed \d+ insns|verification time|stack depth|peak_states|mark_read)/;
  for (let i = lines.length - 1; i >= 0; i--) if (!stat.test(lines[i])) return lines[i];
  return '';
}

/** "stack depth 16+0+8" of the statistics log, one number per function. */
export function stackDepths(stats: string): number[] {
  const m = /^stack depth ([\d+]+)/m.exec(stats);
  return m ? m[1].split('+').filter(Boolean).map(Number) : [];
}
