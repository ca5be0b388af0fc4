// A growing little-endian byte buffer with the encodings ELF and DWARF need (fixed-width
// integers, LEB128, NUL-terminated strings), and back-patching of lengths written before the
// data they measure.

export class ByteWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.#buf.subarray(0, this.#len));
    this.#buf = b;
  }

  u8(v: number): this {
    this.#room(1);
    this.#buf[this.#len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }

  u32(v: number): this {
    this.#room(4);
    new DataView(this.#buf.buffer).setUint32(this.#len, v >>> 0, true);
    this.#len += 4;
    return this;
  }

  u64(v: bigint): this {
    this.#room(8);
    new DataView(this.#buf.buffer).setBigUint64(this.#len, BigInt.asUintN(64, v), true);
    this.#len += 8;
    return this;
  }

  uleb(v: number | bigint): this {
    let x = BigInt(v);
    if (x < 0n) throw new RangeError('uleb128 of a negative number');
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) byte |= 0x80;
      this.u8(byte);
    } while (x !== 0n);
    return this;
  }

  sleb(v: number | bigint): this {
    let x = BigInt(v);
    for (;;) {
      const byte = Number(x & 0x7fn);
      x >>= 7n;
      const done = (x === 0n && (byte & 0x40) === 0) || (x === -1n && (byte & 0x40) !== 0);
      this.u8(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }

  /** NUL-terminated UTF-8. */
  cstr(s: string): this {
    return this.bytes(Buffer.from(s, 'utf8')).u8(0);
  }

  bytes(b: Uint8Array): this {
    this.#room(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  /** Zero bytes up to a multiple of `n`. */
  align(n: number, fill = 0): this {
    while (this.#len % n !== 0) this.u8(fill);
    return this;
  }

  patchU32(at: number, v: number): void {
    new DataView(this.#buf.buffer).setUint32(at, v >>> 0, true);
  }

  /** Writes a u32 length placeholder; the returned function fills it with the bytes written since. */
  lengthU32(): () => void {
    const at = this.#len;
    this.u32(0);
    return () => this.patchU32(at, this.#len - at - 4);
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
