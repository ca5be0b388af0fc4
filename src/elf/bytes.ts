// Bounds-checked little-endian reads. Every read names what it reads, so that a truncated or
// corrupted file ends in an ElfError with the offset and the field, never a RangeError.

import { ElfError, hex } from './errors.js';

export class Bytes {
  private readonly view: DataView;

  /**
   * @param data the bytes
   * @param base file offset of `data[0]`, for messages
   * @param file the file name, for error locations
   */
  constructor(readonly data: Uint8Array, readonly base = 0, readonly file?: string) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get length(): number {
    return this.data.length;
  }

  /** Throws unless `len` bytes at `off` are inside. */
  need(off: number, len: number, what: string): void {
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len < 0 || off + len > this.data.length) {
      throw new ElfError(
        'elf.truncated',
        `${what}: ${len} bytes at offset ${hex(this.base + off)} run past the end of the data (${this.data.length} bytes from ${hex(this.base)})`,
        this.loc(),
        this.base + off,
      );
    }
  }

  u8(off: number, what: string): number {
    this.need(off, 1, what);
    return this.view.getUint8(off);
  }

  u16(off: number, what: string): number {
    this.need(off, 2, what);
    return this.view.getUint16(off, true);
  }

  u32(off: number, what: string): number {
    this.need(off, 4, what);
    return this.view.getUint32(off, true);
  }

  i32(off: number, what: string): number {
    this.need(off, 4, what);
    return this.view.getInt32(off, true);
  }

  u64big(off: number, what: string): bigint {
    this.need(off, 8, what);
    return this.view.getBigUint64(off, true);
  }

  /** A u64 that must fit a JavaScript number (sizes, offsets). */
  u64(off: number, what: string): number {
    const v = this.u64big(off, what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ElfError('elf.format', `${what}: value ${v} at offset ${hex(this.base + off)} is too large`, this.loc(), this.base + off);
    }
    return Number(v);
  }

  /** A sub-range, sharing the bytes; offsets in its messages stay file offsets. */
  slice(off: number, len: number, what: string): Bytes {
    this.need(off, len, what);
    return new Bytes(this.data.subarray(off, off + len), this.base + off, this.file);
  }

  /** The NUL-terminated string at `off` (latin-1 safe UTF-8 decode). */
  cstr(off: number, what: string): string {
    if (!Number.isSafeInteger(off) || off < 0 || off >= this.data.length) {
      throw new ElfError('elf.truncated', `${what}: string offset ${off} is outside the string table (${this.data.length} bytes)`, this.loc(), this.base + Math.max(0, off));
    }
    const end = this.data.indexOf(0, off);
    if (end < 0) {
      throw new ElfError('elf.format', `${what}: string at offset ${off} is not NUL-terminated`, this.loc(), this.base + off);
    }
    return new TextDecoder().decode(this.data.subarray(off, end));
  }

  private loc(): { file?: string } {
    return this.file === undefined ? {} : { file: this.file };
  }
}
