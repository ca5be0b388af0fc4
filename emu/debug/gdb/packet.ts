// The GDB remote serial protocol's framing, apart from what the packets mean (handlers.ts):
// `$payload#cs` with a two-digit modulo-256 checksum, `}` escapes (the next byte XOR 0x20) for
// `$`, `#`, `}` and `*`, run-length encoding (`X*n`: X repeated n - 29 more times), the `+`/`-`
// acknowledgements and the 0x03 interrupt byte. Bytes are carried as latin1 strings so binary
// payloads (`X` packets) survive unchanged.

export type Frame =
  | { readonly kind: 'packet'; readonly payload: string }
  | { readonly kind: 'ack' }
  | { readonly kind: 'nack' }
  | { readonly kind: 'interrupt' }
  /** A packet whose checksum did not match, or garbage between packets: answer `-`. */
  | { readonly kind: 'bad'; readonly reason: string };

/** Longest packet accepted (the PacketSize announced in qSupported, with room for escapes). */
export const MAX_PACKET = 0x4000;

const ESCAPED = new Set(['$', '#', '}', '*']);

export function checksum(data: string): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xff;
  return sum;
}

/** `$payload#cs`, escaping what must be escaped (no run-length encoding on the way out). */
export function encodePacket(payload: string): string {
  let body = '';
  for (const c of payload) body += ESCAPED.has(c) ? `}${String.fromCharCode(c.charCodeAt(0) ^ 0x20)}` : c;
  return `$${body}#${checksum(body).toString(16).padStart(2, '0')}`;
}

/** Undoes escapes and run-length encoding of a packet body (between `$` and `#`). */
export function decodeBody(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '}') {
      if (i + 1 >= body.length) throw new RangeError('a packet ends with an escape');
      out += String.fromCharCode(body.charCodeAt(++i) ^ 0x20);
    } else if (c === '*') {
      if (out.length === 0 || i + 1 >= body.length) throw new RangeError('a run-length marker without a character to repeat');
      const n = body.charCodeAt(++i) - 29;
      if (n < 0) throw new RangeError('a bad run length');
      out += out[out.length - 1].repeat(n);
    } else {
      out += c;
    }
  }
  return out;
}

/** Splits a byte stream into frames; partial packets wait for more bytes. */
export class PacketReader {
  #buf = '';

  feed(chunk: string): Frame[] {
    this.#buf += chunk;
    const out: Frame[] = [];
    for (;;) {
      const b = this.#buf;
      if (b.length === 0) break;
      const c = b[0];
      if (c === '+' || c === '-' || c === '\x03') {
        this.#buf = b.slice(1);
        out.push(c === '+' ? { kind: 'ack' } : c === '-' ? { kind: 'nack' } : { kind: 'interrupt' });
        continue;
      }
      if (c !== '$') {
        // Noise between packets: skip to the next `$` (or drop everything).
        const next = b.search(/[$+\-\x03]/);
        this.#buf = next < 0 ? '' : b.slice(next);
        out.push({ kind: 'bad', reason: `unexpected byte 0x${c.charCodeAt(0).toString(16)}` });
        continue;
      }
      const hash = b.indexOf('#');
      if (hash < 0) {
        if (b.length > MAX_PACKET * 2) {
          this.#buf = '';
          out.push({ kind: 'bad', reason: 'a packet longer than the packet size' });
        }
        break;
      }
      if (b.length < hash + 3) break;
      const body = b.slice(1, hash);
      const sum = b.slice(hash + 1, hash + 3);
      this.#buf = b.slice(hash + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(sum) || parseInt(sum, 16) !== checksum(body)) {
        out.push({ kind: 'bad', reason: `checksum ${sum} does not match the packet` });
        continue;
      }
      try {
        out.push({ kind: 'packet', payload: decodeBody(body) });
      } catch (e) {
        out.push({ kind: 'bad', reason: (e as Error).message });
      }
    }
    return out;
  }
}

// --- payload helpers ---------------------------------------------------------------------------

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export function fromHex(text: string): Uint8Array {
  if (text.length % 2 !== 0 || /[^0-9a-fA-F]/.test(text)) throw new RangeError(`'${text.slice(0, 16)}' is not hex bytes`);
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/** A little-endian register value as the `g` packet carries it. */
export function leHex(value: bigint, bytes: number): string {
  let s = '';
  let v = BigInt.asUintN(bytes * 8, value);
  for (let i = 0; i < bytes; i++) {
    s += (v & 0xffn).toString(16).padStart(2, '0');
    v >>= 8n;
  }
  return s;
}

export function parseLeHex(text: string): bigint {
  const b = fromHex(text);
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

/** An unsigned hex number of a packet field (`m ADDR,LEN`). */
export function parseHexNumber(text: string, what: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) throw new RangeError(`bad ${what} '${text.slice(0, 20)}'`);
  return BigInt(`0x${text}`);
}
