// JIT images compared with a real kernel's apart from the bytes that hold absolute addresses
// (scenario.md, `programs`: map pointers and call targets outside the function differ from a
// real kernel's only in those addresses). Shared by test/cli/jit.test.ts and
// test/emu/selftests.test.ts.

import iced from 'iced-x86';
import { kallsymsNames } from '../../emu/suite/kernel-image.js';

const { Decoder, DecoderOptions, OpKind } = iced;

/** The keys of a koracle `programs` entry the comparison needs. */
export interface ImageProgram {
  name: string;
  jited_func_lens: number[];
  jited_ksyms: string[];
  jited_hex: string;
}

/** Symbols by address, from a name -> address table (the emulated kernel's). */
export const byAddress = (symbols: ReadonlyMap<string, bigint>): Map<bigint, string> => new Map([...symbols].map(([n, a]) => [a, n]));

/** A kvm-oracle kallsyms.txt (guest booted with nokaslr): text symbols by address. */
export const readKallsyms = (file: string): Map<bigint, string> => kallsymsNames(file).byAddress;

/** Kernel addresses start at 0xffff800000000000 (x86-64, 4-level paging). */
const KERNEL_SPACE = 0xffff800000000000n;

/**
 * Names an address the way both kernels can agree on: the guest's kallsyms (the emulated kernel
 * puts those symbols at the guest's addresses), or a function of one of the object's programs
 * (`target0 func 0+0xb`); anything else (a static function, unlisted) is `?`.
 */
export function namer(programs: readonly ImageProgram[], kallsyms: ReadonlyMap<bigint, string>): (a: bigint) => string {
  const funcs = programs.flatMap((p) => p.jited_ksyms.map((k, i) => ({ name: `${p.name} func ${i}`, begin: BigInt(k), len: p.jited_func_lens[i] })));
  return (a) => {
    const k = kallsyms.get(a);
    if (k !== undefined) return k;
    const f = funcs.find((g) => a >= g.begin && a < g.begin + BigInt(g.len));
    return f ? `${f.name}+0x${(a - f.begin).toString(16)}` : '?';
  };
}

/**
 * An image as its instructions' bytes, with what holds an absolute address replaced: the rel32
 * of a call or jump leaving the function by the target's name, the imm64 of a movabs loading a
 * kernel pointer (a map or its value) by `<pointer>`. Everything else must be equal.
 */
export function withoutAddresses(image: Uint8Array, address: bigint, name: (a: bigint) => string): string[] {
  const d = new Decoder(64, image, DecoderOptions.None);
  d.ip = address;
  const end = address + BigInt(image.length);
  const out: string[] = [];
  while (d.canDecode) {
    const ins = d.decode();
    const off = Number(ins.ip - address);
    let bytes = Buffer.from(image.subarray(off, off + ins.length)).toString('hex');
    if (ins.op0Kind === OpKind.NearBranch64 && (ins.nearBranch64 < address || ins.nearBranch64 >= end)) {
      bytes = `${bytes.slice(0, -8)} <${name(ins.nearBranch64)}>`;
    } else if (ins.op1Kind === OpKind.Immediate64 && ins.immediate64 >= KERNEL_SPACE) {
      bytes = `${bytes.slice(0, -16)} <pointer>`;
    }
    out.push(`${off.toString(16)}: ${bytes}`);
    ins.free();
  }
  d.free();
  return out;
}

/** A program's functions: each one's address and bytes, split from jited_hex by jited_func_lens. */
export function funcImages(p: ImageProgram): { address: bigint; bytes: Uint8Array }[] {
  const all = Buffer.from(p.jited_hex, 'hex');
  let at = 0;
  return p.jited_func_lens.map((len, i) => {
    const bytes = all.subarray(at, at + len);
    at += len;
    return { address: BigInt(p.jited_ksyms[i]), bytes };
  });
}

/**
 * Every function of the kernel's programs `theirs` and of the same programs in `mine`, with
 * addresses named by each side's own symbols (see withoutAddresses).
 */
export function programsWithoutAddresses(
  mine: readonly ImageProgram[], theirs: readonly ImageProgram[],
  symbols: { readonly mine: ReadonlyMap<bigint, string>; readonly theirs: ReadonlyMap<bigint, string> },
): { name: string; func: number; ours: string[]; theirs: string[] }[] {
  const nameMine = namer(mine, symbols.mine);
  const nameTheirs = namer(theirs, symbols.theirs);
  return theirs.flatMap((gp) => {
    const p = mine.find((x) => x.name === gp.name);
    if (!p) return [{ name: gp.name, func: -1, ours: ['<missing>'], theirs: [] }];
    const a = funcImages(p);
    return funcImages(gp).map((b, i) => ({
      name: gp.name, func: i,
      ours: a[i] ? withoutAddresses(a[i].bytes, a[i].address, nameMine) : ['<missing>'],
      theirs: withoutAddresses(b.bytes, b.address, nameTheirs),
    }));
  });
}

const NOP5 = '0f1f440000';

/**
 * The two 5-byte sites of each direct tail call (tailcalls.md §5.1) are nop5 or `jmp rel32`
 * depending on the prog array's slots, which the scenarios change after load: there either
 * form is `<direct site>`; anything else stays and fails the comparison.
 */
export function maskSites(lines: string[], offsets: ReadonlySet<number>): string[] {
  return lines.map((l) => {
    const [off, bytes] = l.split(': ');
    const isSite = offsets.has(parseInt(off, 16)) && (bytes === NOP5 || bytes.startsWith('e9'));
    return isSite ? `${off}: <direct site>` : l;
  });
}

/** Instruction kinds and lengths of x86 code (rel32 and imm64 values are addresses, so left out). */
export function instructionShape(hex: string): string[] {
  const { Decoder, DecoderOptions, Code } = iced;
  const d = new Decoder(64, Uint8Array.from(Buffer.from(hex, 'hex')), DecoderOptions.None);
  const out: string[] = [];
  while (d.canDecode) {
    const i = d.decode();
    out.push(`${Code[i.code] ?? i.code}/${i.length}`);
    i.free();
  }
  d.free();
  return out;
}
