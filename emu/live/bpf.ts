// The bpf() system call through koffi: libc's `syscall(SYS_bpf, cmd, attr, size)` with
// `union bpf_attr` built in native memory (include/uapi/linux/bpf.h layouts, x86-64).
//
// Memory: every buffer the kernel reads or writes (the attr itself, instructions, keys, logs,
// info arrays) is malloc'ed native memory, so no pointer handed to the kernel can move under a
// garbage collection; JS works on a copy that each bpf() call pushes before and pulls after.
// (Viewing the native memory with koffi.view instead cost about 0.5 MB of RSS per fuzz case
// that never came back, measured with koffi 3.3.4 next to unicorn engines.) errno is read with koffi.errno(), which koffi
// saves right after the native call returns (reading __errno_location later could see a value
// clobbered by whatever the runtime did in between).

import koffi from 'koffi';
import { readFileSync } from 'node:fs';
import { TailjitError } from '../../src/errors.js';

export const SYS_BPF = 321; // x86-64

/** enum bpf_cmd values used here. */
export const BpfCmd = {
  MAP_CREATE: 0, MAP_LOOKUP_ELEM: 1, MAP_UPDATE_ELEM: 2, MAP_DELETE_ELEM: 3, PROG_LOAD: 5,
  PROG_TEST_RUN: 10, PROG_GET_NEXT_ID: 11, MAP_GET_NEXT_ID: 12, OBJ_GET_INFO_BY_FD: 15, BTF_LOAD: 18,
  MAP_FREEZE: 22, BTF_GET_NEXT_ID: 23,
} as const;

/** sizeof(union bpf_attr) in the 6.x uapi header is 144; later fields stay zero. */
const ATTR_SIZE = 160;

export class LiveError extends TailjitError {
  /** errno of the failed command, when one failed. */
  readonly errno: number | undefined;
  readonly errnoName: string | undefined;
  /** The verifier's (or the BTF checker's) log of a refused load. */
  readonly log: string;

  constructor(code: string, message: string, opts: { errno?: number; log?: string; notes?: string[] } = {}) {
    super(code, message, {}, opts.notes ?? []);
    this.errno = opts.errno;
    this.errnoName = opts.errno === undefined ? undefined : errnoName(opts.errno);
    this.log = opts.log ?? '';
  }
}

interface Libc {
  syscall: (...args: unknown[]) => number | bigint;
  malloc: (n: number) => bigint | null;
  free: (p: bigint) => void;
  memcpy: (dst: bigint | Uint8Array, src: bigint | Uint8Array, n: number) => unknown;
  close: (fd: number) => number;
  strerror: (e: number) => string;
}

let libc: Libc | undefined;

function lib(): Libc {
  if (libc) return libc;
  const l = koffi.load('libc.so.6');
  libc = {
    syscall: l.func('long syscall(long number, ...)') as Libc['syscall'],
    malloc: l.func('void *malloc(size_t size)') as Libc['malloc'],
    free: l.func('void free(void *p)') as Libc['free'],
    memcpy: l.func('void *memcpy(void *dst, const void *src, size_t n)') as Libc['memcpy'],
    close: l.func('int close(int fd)') as Libc['close'],
    strerror: l.func('const char *strerror(int errnum)') as Libc['strerror'],
  };
  return libc;
}

const ERRNO_NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(koffi.os.errno)) if (!ERRNO_NAMES.has(v)) ERRNO_NAMES.set(v, k);
/** Aliases koffi lists first for a shared number. */
ERRNO_NAMES.set(11, 'EAGAIN');
ERRNO_NAMES.set(95, 'EOPNOTSUPP');
ERRNO_NAMES.set(524, 'ENOTSUPP');

export function errnoName(e: number): string {
  return ERRNO_NAMES.get(e) ?? `errno ${e}`;
}

export function errnoMessage(e: number): string {
  if (e === 524) return 'Operation not supported (kernel ENOTSUPP)';
  return lib().strerror(e);
}

/**
 * A malloc'ed buffer and its JS copy `bytes`: every bpf() call copies the copies of all live
 * buffers to native memory before the call and back after it (they are few and small, the
 * full verifier log of a refused load aside).
 */
export class NativeBuf {
  static readonly #live = new Set<NativeBuf>();
  readonly ptr: bigint;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  #freed = false;

  constructor(size: number) {
    const n = Math.max(size, 1);
    const p = lib().malloc(n);
    if (p === null || p === 0n) throw new LiveError('live.nomem', `malloc(${n}) failed`);
    this.ptr = BigInt(p);
    const ab = new ArrayBuffer(n);
    this.bytes = new Uint8Array(ab, 0, size);
    this.view = new DataView(ab);
    NativeBuf.#live.add(this);
  }

  static of(bytes: Uint8Array): NativeBuf {
    const b = new NativeBuf(bytes.length);
    b.bytes.set(bytes);
    return b;
  }

  /** Runs a native call that may read or write any live buffer. */
  static around<T>(call: () => T): T {
    const l = lib();
    for (const b of NativeBuf.#live) if (b.bytes.length) l.memcpy(b.ptr, b.bytes, b.bytes.length);
    try {
      return call();
    } finally {
      for (const b of NativeBuf.#live) if (b.bytes.length) l.memcpy(b.bytes, b.ptr, b.bytes.length);
    }
  }

  /** A copy of the bytes (valid after free). */
  copy(len = this.bytes.length): Uint8Array {
    return this.bytes.slice(0, len);
  }

  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    NativeBuf.#live.delete(this);
    lib().free(this.ptr);
  }
}

/** Runs `f` with native buffers that are freed afterwards, whatever happens. */
export function withBufs<T>(f: (alloc: (x: number | Uint8Array) => NativeBuf) => T): T {
  const bufs: NativeBuf[] = [];
  const alloc = (x: number | Uint8Array): NativeBuf => {
    const b = typeof x === 'number' ? new NativeBuf(x) : NativeBuf.of(x);
    bufs.push(b);
    return b;
  };
  try {
    return f(alloc);
  } finally {
    for (const b of bufs) b.free();
  }
}

/** An attr being built: little-endian field writers at the header's offsets. */
export class Attr {
  readonly buf = new NativeBuf(ATTR_SIZE);
  u32(off: number, v: number): this { this.buf.view.setUint32(off, v >>> 0, true); return this; }
  u64(off: number, v: bigint): this { this.buf.view.setBigUint64(off, BigInt.asUintN(64, v), true); return this; }
  ptr(off: number, b: NativeBuf | null): this { return this.u64(off, b ? b.ptr : 0n); }
  name(off: number, s: string): this {
    // BPF_OBJ_NAME_LEN 16 with its NUL: libbpf copies at most 15 characters.
    const enc = new TextEncoder().encode(s).subarray(0, 15);
    this.buf.bytes.set(enc, off);
    return this;
  }
  getU32(off: number): number { return this.buf.view.getUint32(off, true); }
  getU64(off: number): bigint { return this.buf.view.getBigUint64(off, true); }
}

export interface SysResult {
  readonly ret: number;
  readonly errno: number;
}

/** One bpf() call: its return value, and errno when it is negative. */
export function bpfRaw(cmd: number, attr: Attr): SysResult {
  const l = lib();
  return NativeBuf.around(() => {
    const ret = Number(l.syscall(SYS_BPF, 'int', cmd, 'void *', attr.buf.ptr, 'uint', ATTR_SIZE));
    // Read at once: the copies back are native calls of their own.
    return { ret, errno: ret < 0 ? koffi.errno() : 0 };
  });
}

const CMD_NAMES = new Map<number, string>(Object.entries(BpfCmd).map(([k, v]) => [v, `BPF_${k}`]));

/** One bpf() call that must succeed; a failure is a LiveError naming the command and errno. */
export function bpf(cmd: number, attr: Attr, what: string): number {
  const r = bpfRaw(cmd, attr);
  if (r.ret < 0) throw commandError(cmd, r.errno, what);
  return r.ret;
}

export function commandError(cmd: number, e: number, what: string, log = ''): LiveError {
  const code = e === 1 || e === 38 ? 'live.unavailable' : 'live.bpf';
  const msg = `${CMD_NAMES.get(cmd) ?? `bpf command ${cmd}`} (${what}) failed: ${errnoName(e)}: ${errnoMessage(e)}`;
  return new LiveError(code, msg, { errno: e, log, notes: code === 'live.unavailable' ? [UNAVAILABLE_NOTE] : [] });
}

const UNAVAILABLE_NOTE = 'the live backend needs root (or CAP_BPF with CAP_PERFMON and CAP_NET_ADMIN) and a kernel that lets this process use bpf()';

export function closeFd(fd: number): void {
  if (fd >= 0) lib().close(fd);
}

export type LiveAvailability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

let availability: LiveAvailability | undefined;

/**
 * Whether this process may use bpf() for what the live backend does: it creates a one-slot
 * array (needs CAP_BPF) and closes it. The answer is cached.
 */
export function liveAvailability(): LiveAvailability {
  if (availability) return availability;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return (availability = { ok: false, reason: `the live backend needs Linux on x86-64 (this is ${process.platform}/${process.arch})` });
  }
  let r: SysResult;
  try {
    const a = new Attr().u32(0, 2).u32(4, 4).u32(8, 4).u32(12, 1);
    try {
      r = bpfRaw(BpfCmd.MAP_CREATE, a);
    } finally {
      a.buf.free();
    }
  } catch (e) {
    return (availability = { ok: false, reason: `cannot call bpf() through libc: ${(e as Error).message}` });
  }
  if (r.ret >= 0) {
    closeFd(r.ret);
    return (availability = { ok: true });
  }
  const why = r.errno === 1 ? 'bpf() is not permitted to this process (EPERM): run as root'
    : r.errno === 38 ? 'this kernel has no bpf() system call (ENOSYS)'
      : `bpf(BPF_MAP_CREATE) failed: ${errnoName(r.errno)}: ${errnoMessage(r.errno)}`;
  return (availability = { ok: false, reason: why });
}

/** Throws LiveError 'live.unavailable' unless bpf() can be used. */
export function requireLive(): void {
  const a = liveAvailability();
  if (!a.ok) throw new LiveError('live.unavailable', `the live kernel backend is unavailable: ${a.reason}`, { notes: [UNAVAILABLE_NOTE] });
}

/** `uname -r` of the running kernel. */
export function kernelRelease(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/**
 * The ids of every program, map or BTF object the kernel holds now (BPF_*_GET_NEXT_ID from 0
 * until ENOENT): what a check that nothing was left behind compares before and after.
 */
export function liveObjectIds(kind: 'prog' | 'map' | 'btf'): number[] {
  const cmd = kind === 'prog' ? BpfCmd.PROG_GET_NEXT_ID : kind === 'map' ? BpfCmd.MAP_GET_NEXT_ID : BpfCmd.BTF_GET_NEXT_ID;
  const ids: number[] = [];
  for (let start = 0; ;) {
    const a = new Attr().u32(0, start);
    try {
      const r = bpfRaw(cmd, a);
      if (r.ret < 0) {
        if (r.errno === 2) return ids; // ENOENT: no id after `start`
        throw commandError(cmd, r.errno, `${kind} ids after ${start}`);
      }
      start = a.getU32(4);
      ids.push(start);
    } finally {
      a.buf.free();
    }
  }
}
