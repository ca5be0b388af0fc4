// bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3) of 5.10 (kernel/trace/bpf_trace.c): the
// format check that refuses anything but %d %i %u %x with optional l/ll, %p (and %pB, %pks,
// %pus) and one %s, at most three conversions, printable ASCII only, NUL at fmt[fmt_size - 1];
// then the vsnprintf of the accepted specifiers. Returns the text, or null for -EINVAL.
//
// Modeled, not copied from a real trace buffer: %p prints the raw value in hex where the kernel
// prints a hashed pointer, and %s reads at most 63 characters as strncpy_from_kernel_nofault
// into the kernel's 64-byte buffer does.

export interface PrintkMemory {
  /** The string at `addr` (at most `max` bytes, without its NUL), or null if unreadable. */
  cString(addr: bigint, max: number): Uint8Array | null;
}

const isPrint = (c: number): boolean => c >= 0x20 && c < 0x7f;
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPunct = (c: number): boolean => isPrint(c) && !isSpace(c) && !/[0-9A-Za-z]/.test(String.fromCharCode(c));
/** What may follow %s or %p: NUL, white space or punctuation (no further format extension). */
const endsConversion = (c: number | undefined): boolean => c === undefined || c === 0 || isSpace(c) || isPunct(c);

interface Conversion {
  /** Text before the conversion. */
  readonly lead: string;
  /** 0: int, 1: long, 2: long long. */
  readonly mod: number;
  readonly spec: 'd' | 'i' | 'u' | 'x' | 'p' | 's';
}

/** Splits `fmt` (the bytes before its NUL) as bpf_trace_printk checks it; null means -EINVAL. */
export function parseTracePrintk(fmt: Uint8Array): { parts: Conversion[]; tail: string } | null {
  const parts: Conversion[] = [];
  let lead = '';
  let strSeen = false;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if ((!isPrint(c) && !isSpace(c)) || c > 0x7f) return null;
    if (c !== 0x25 /* % */) {
      lead += String.fromCharCode(c);
      continue;
    }
    if (parts.length >= 3) return null;
    i++;
    let mod = 0;
    let spec: Conversion['spec'];
    if (fmt[i] === 0x6c /* l */) {
      mod++;
      i++;
    } else if (fmt[i] === 0x70 /* p */) {
      if ((fmt[i + 1] === 0x6b || fmt[i + 1] === 0x75) && fmt[i + 2] === 0x73) {
        // %pks / %pus: a string from kernel or user memory
        if (strSeen || !endsConversion(fmt[i + 3])) return null;
        strSeen = true;
        parts.push({ lead, mod: 1, spec: 's' });
        lead = '';
        i += 2;
        continue;
      }
      if (fmt[i + 1] === 0x42 /* B */) i++;
      else if (!endsConversion(fmt[i + 1])) return null;
      parts.push({ lead, mod: 1, spec: 'p' });
      lead = '';
      continue;
    } else if (fmt[i] === 0x73 /* s */) {
      if (strSeen || !endsConversion(fmt[i + 1])) return null;
      strSeen = true;
      parts.push({ lead, mod: 1, spec: 's' });
      lead = '';
      continue;
    }
    if (fmt[i] === 0x6c) {
      mod++;
      i++;
    }
    const s = String.fromCharCode(fmt[i] ?? 0);
    if (s !== 'i' && s !== 'd' && s !== 'u' && s !== 'x') return null;
    spec = s;
    parts.push({ lead, mod, spec });
    lead = '';
  }
  return { parts, tail: lead };
}

function formatOne(c: Conversion, arg: bigint, mem: PrintkMemory): string {
  // mod 0 passes (u32)arg, which %d/%i then read as an int; l and ll are 64-bit on x86-64.
  const bits = c.mod === 0 ? 32 : 64;
  switch (c.spec) {
    case 'd':
    case 'i':
      return BigInt.asIntN(bits, arg).toString();
    case 'u':
      return BigInt.asUintN(bits, arg).toString();
    case 'x':
      return BigInt.asUintN(bits, arg).toString(16);
    case 'p':
      return `0x${BigInt.asUintN(64, arg).toString(16).padStart(16, '0')}`;
    case 's': {
      const s = mem.cString(arg, 63);
      return s === null ? '' : new TextDecoder('latin1').decode(s);
    }
  }
}

/**
 * The line bpf_trace_printk writes, or null when it returns -EINVAL. `fmt` is the fmt_size
 * bytes the program passed (the last must be NUL).
 */
export function formatTracePrintk(fmt: Uint8Array, args: readonly bigint[], mem: PrintkMemory): string | null {
  if (fmt.length === 0 || fmt[fmt.length - 1] !== 0) return null;
  // The check runs over the bytes before the final NUL: an earlier NUL is not printable.
  const parsed = parseTracePrintk(fmt.subarray(0, fmt.length - 1));
  if (!parsed) return null;
  let out = '';
  parsed.parts.forEach((c, k) => {
    out += c.lead + formatOne(c, args[k] ?? 0n, mem);
  });
  return out + parsed.tail;
}
