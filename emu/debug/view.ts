// The kernel's view of a stopped target, for `tailjit debug`: frames and tail call counters
// (frames.ts), where an address is (program, BPF instruction, source line), the BPF instruction
// with its x86 code, maps, prog-array slots and global variables. Read-only: everything that
// changes the target goes through the DebugTarget interface.

import iced from 'iced-x86';
import { kernelInsn } from '../../src/asm/kernel.js';
import type { GlobalValue } from '../../src/elf/index.js';
import type { Insn } from '../../src/isa/index.js';
import { intelFormatter } from '../../src/jit/listing.js';
import { ProgArrayMap } from '../kernel/maps.js';
import { globalVariables, type CodeLocation, type CodeMap, type FuncImage } from './code-map.js';
import { DebugError } from './errors.js';
import { unwind, type Frame } from './frames.js';
import type { HarnessTarget } from './harness-target.js';

const { Decoder, DecoderOptions } = iced;

export interface X86Line {
  readonly address: bigint;
  readonly bytes: string;
  readonly text: string;
  /** The instruction is a call (for `nexti`). */
  readonly isCall: boolean;
  readonly length: number;
}

export interface InsnListing {
  readonly image: string;
  readonly slot: number | null;
  /** `(61) r1 = *(u32 *)(r1 +0)`, or `prologue`. */
  readonly bpf: string;
  readonly source?: { readonly file: string; readonly line: number; readonly text: string };
  readonly x86: readonly X86Line[];
}

export interface MapInfo {
  readonly name: string;
  readonly kind: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly address: bigint;
}

export class KernelView {
  readonly code: CodeMap;
  readonly #target: HarnessTarget;

  constructor(target: HarnessTarget) {
    this.#target = target;
    this.code = target.code;
  }

  get #machine() {
    return this.#target.machine;
  }

  frames(): Frame[] {
    const t = this.#target;
    if (t.state !== 'stopped') return [];
    const mem = this.#machine.kernel.mem;
    const safe = <T>(f: () => T): T | undefined => {
      try {
        return f();
      } catch {
        return undefined;
      }
    };
    return unwind({
      code: this.code,
      regs: t.readRegisters(),
      readU64: (a) => safe(() => mem.readU64(a)),
      readU32: (a) => safe(() => mem.readU32(a)),
      entryReturn: this.#machine.kernel.entryAfterCall,
      observed: this.#machine.observer.frames(),
    });
  }

  /** The innermost JIT-ed frame's counter (what `print tcc` and `if tcc == N` read). */
  tcc(): Frame['tcc'] {
    const f = this.frames().find((x) => x.image);
    return f?.tcc ?? null;
  }

  locate(address: bigint): CodeLocation | undefined {
    return this.code.locate(address);
  }

  /** `loop_direct:3 (loop_direct+0x2a)`, `bpf_map_lookup_elem`, `0x...`. */
  where(address: bigint): string {
    const loc = this.code.locate(address);
    const sym = this.code.symbolize(address) ?? `0x${address.toString(16)}`;
    if (!loc) return sym;
    const insn = loc.index === null ? 'prologue' : `insn ${loc.slot}`;
    return `${loc.image.symbol} ${insn} (${sym})`;
  }

  /** The BPF instruction at `address` with its x86 code and source line. */
  listing(address: bigint): InsnListing | undefined {
    const loc = this.code.locate(address);
    if (!loc) return undefined;
    return this.listingOf(loc.image, loc.index);
  }

  /** `index` null: the prologue. */
  listingOf(image: FuncImage, index: number | null): InsnListing {
    const start = index === null ? 0 : this.code.insnRange(image, index).start;
    const end = index === null ? image.func.addrs[0] : this.code.insnRange(image, index).end;
    const slot = index === null ? null : image.func.firstSlot + image.func.insnSlots[index];
    const line = slot === null ? undefined : this.code.line(image.prog, slot);
    return {
      image: image.symbol, slot,
      bpf: index === null ? 'prologue' : this.bpfText(image.insns[index]),
      ...(line ? { source: { file: line.file, line: line.line, text: line.text.trim() } } : {}),
      x86: this.disassemble(image.address + BigInt(start), end - start),
    };
  }

  /** Instructions `before` and `after` the one at `address`, in its function. */
  around(address: bigint, before: number, after: number): InsnListing[] {
    const loc = this.code.locate(address);
    if (!loc) return [];
    const k = loc.index ?? -1;
    const out: InsnListing[] = [];
    for (let i = Math.max(-1, k - before); i <= Math.min(loc.image.insns.length - 1, k + after); i++) {
      out.push(this.listingOf(loc.image, i < 0 ? null : i));
    }
    return out;
  }

  bpfText(insn: Insn): string {
    const base = this.#machine.kernel.symbol('__bpf_call_base');
    const code = `(${insn.code.toString(16).padStart(2, '0')}) `;
    if (insn.code === 0xf5) return `${code}tail_call ${insn.imm === 0 ? '(indirect)' : `(direct, poke ${insn.imm - 1})`}`;
    return code + kernelInsn(insn, { helperName: (id) => this.code.symbolize(base + BigInt(id)) });
  }

  /** x86 instructions in [address, address + length) (the bytes as they are now, pokes included). */
  disassemble(address: bigint, length: number): X86Line[] {
    if (length <= 0) return [];
    const bytes = this.#target.readMemory(address, length);
    const d = new Decoder(64, bytes, DecoderOptions.None);
    d.ip = address;
    const fmt = intelFormatter();
    const out: X86Line[] = [];
    try {
      while (d.canDecode) {
        const insn = d.decode();
        const off = Number(insn.ip - address);
        let text = fmt.format(insn);
        const branch = insn.nearBranchTarget;
        if (branch !== 0n) {
          const name = this.code.symbolize(branch);
          if (name) text += ` <${name}>`;
        }
        out.push({
          address: insn.ip, length: insn.length, text,
          bytes: Buffer.from(bytes.subarray(off, off + insn.length)).toString('hex'),
          isCall: insn.flowControl === iced.FlowControl.Call || insn.flowControl === iced.FlowControl.IndirectCall,
        });
        insn.free();
      }
    } finally {
      d.free();
      fmt.free();
    }
    return out;
  }

  /** The instruction at `address` (for `nexti`). */
  x86At(address: bigint): X86Line | undefined {
    try {
      return this.disassemble(address, 15)[0];
    } catch {
      return undefined;
    }
  }

  maps(): MapInfo[] {
    return this.#machine.kernel.maps.map((m) => ({
      name: m.name, kind: m.kind, keySize: m.spec.keySize, valueSize: m.spec.valueSize, maxEntries: m.spec.maxEntries, address: m.address,
    }));
  }

  /** Each slot of a prog array: the program it holds, or null. */
  slots(mapName: string): (string | null)[] {
    const m = this.#map(mapName);
    if (!(m instanceof ProgArrayMap)) throw new DebugError('debug.unknown', `${mapName} is a ${m.kind} map, not a prog array`);
    return m.slots.map((obj) => (obj === null ? null : [...this.#machine.programs.values()].find((p) => p.object.address === obj)?.name ?? `0x${obj.toString(16)}`));
  }

  globals(): Record<string, GlobalValue> {
    return this.#machine.globals().globals;
  }

  /** Where a global variable lives (its section's array map value + the variable's offset). */
  globalAddress(name: string): bigint | undefined {
    return globalVariables(this.#machine).find((v) => v.name === name)?.address;
  }

  #map(name: string) {
    const m = this.#machine.kernel.maps.find((x) => x.name === name);
    if (!m) throw new DebugError('debug.unknown', `no map named ${name} (maps: ${this.#machine.kernel.maps.map((x) => x.name).join(', ') || 'none'})`);
    return m;
  }

  describe(address: bigint): string {
    return this.#machine.kernel.describe(address);
  }
}
