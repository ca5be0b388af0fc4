// Direct tail-call sites after code generation: the compare-and-write of one site
// (`__bpf_arch_text_poke`, tailcalls.md §6.2), the load-time fix-up
// (`bpf_tail_call_direct_fixup`, §5.3) and the prog-array update walk
// (`prog_array_map_poke_run`, §6.3), which a modelled kernel runs when a slot changes.

import { JitBug } from './errors.js';
import { X86_PATCH_SIZE, isSimm32, relFrom } from './x86.js';

/** Five bytes of text at absolute addresses: a function image, or an emulator's memory. */
export interface TextMemory {
  read(address: bigint, length: number): Uint8Array;
  write(address: bigint, bytes: Uint8Array): void;
}

/** A poke site's state as the walk needs it. */
export interface PokeSite {
  readonly tailcallTarget: bigint;
  readonly tailcallBypass: bigint;
  readonly bypassAddr: bigint;
  readonly adjOff: number;
  readonly mapIndex: number;
  readonly key: number;
  readonly stable: boolean;
}

/** Results of `__bpf_arch_text_poke`: written, already in place, or the kernel's -EBUSY / -ERANGE. */
export type PokeResult = 0 | 1 | -16 | -34;

/** What `bpf_arch_text_poke` writes or expects at `ip`: `jmp target` (e9 rel32) or the nop5. */
export function pokeBytes(ip: bigint, target: bigint | null, nop5: readonly number[]): Uint8Array | null {
  if (target === null) return Uint8Array.from(nop5);
  const rel = relFrom(target, ip, X86_PATCH_SIZE);
  if (!isSimm32(rel)) return null;
  const b = new Uint8Array(5);
  b[0] = 0xe9;
  new DataView(b.buffer).setInt32(1, Number(rel), true);
  return b;
}

/**
 * `__bpf_arch_text_poke(ip, BPF_MOD_JUMP, old, new)`: writes `jmp new` (or nop5) over `jmp old`
 * (or nop5). Bytes other than the expected old ones leave the site alone (-EBUSY); when old and
 * new are the same bytes nothing is written and the result is 1. A single-threaded model writes
 * at once (no int3 protocol).
 */
export function textPoke(mem: TextMemory, ip: bigint, oldTarget: bigint | null, newTarget: bigint | null, nop5: readonly number[]): PokeResult {
  const oldInsn = pokeBytes(ip, oldTarget, nop5);
  const newInsn = pokeBytes(ip, newTarget, nop5);
  if (!oldInsn || !newInsn) return -34;
  const cur = mem.read(ip, X86_PATCH_SIZE);
  if (!sameBytes(cur, oldInsn)) return -16;
  if (sameBytes(cur, newInsn)) return 1;
  mem.write(ip, newInsn);
  return 0;
}

/**
 * `bpf_tail_call_direct_fixup` for one descriptor: if the slot holds a program, site 2 becomes
 * `jmp target + adj_off`, then site 1 a nop5 (state C -> D -> B); an empty slot leaves state C.
 * A failed write is a kernel BUG_ON, here a JitBug.
 */
export function tailCallDirectFixup(mem: TextMemory, site: PokeSite, target: bigint | null, nop5: readonly number[]): void {
  if (target === null) return;
  expectPoke(textPoke(mem, site.tailcallTarget, null, target + BigInt(site.adjOff), nop5), site.tailcallTarget);
  expectPoke(textPoke(mem, site.tailcallBypass, site.bypassAddr, null, nop5), site.tailcallBypass);
}

/** One write the walk made, for an emulator that keeps its own copy of the text. */
export interface TextWrite {
  readonly address: bigint;
  readonly bytes: Uint8Array;
}

/**
 * `prog_array_map_poke_run(map, key, old, new)` over the sites of the programs tracking the map:
 * install (site 2 then site 1), replace (site 2 only), remove (site 1 then site 2). `old` and
 * `new` are the `bpf_func` of the slot's previous and next program. Returns the writes made.
 * (The kernel's synchronize_rcu between the remove's two writes has nothing to wait for here.)
 */
export function progArrayMapPokeRun(
  mem: TextMemory, sites: readonly PokeSite[], mapIndex: number, key: number,
  oldFunc: bigint | null, newFunc: bigint | null, nop5: readonly number[],
): TextWrite[] {
  const writes: TextWrite[] = [];
  const logged: TextMemory = {
    read: (a, n) => mem.read(a, n),
    write: (a, b) => {
      mem.write(a, b);
      writes.push({ address: a, bytes: b.slice() });
    },
  };
  for (const p of sites) {
    if (!p.stable || p.mapIndex !== mapIndex || p.key !== key) continue;
    const oldAddr = oldFunc === null ? null : oldFunc + BigInt(p.adjOff);
    const newAddr = newFunc === null ? null : newFunc + BigInt(p.adjOff);
    if (newAddr !== null) {
      expectPoke(textPoke(logged, p.tailcallTarget, oldAddr, newAddr, nop5), p.tailcallTarget);
      if (oldAddr === null) expectPoke(textPoke(logged, p.tailcallBypass, p.bypassAddr, null, nop5), p.tailcallBypass);
    } else {
      const oldBypass = oldAddr === null ? p.bypassAddr : null;
      expectPoke(textPoke(logged, p.tailcallBypass, oldBypass, p.bypassAddr, nop5), p.tailcallBypass);
      expectPoke(textPoke(logged, p.tailcallTarget, oldAddr, null, nop5), p.tailcallTarget);
    }
  }
  return writes;
}

/** A TextMemory over one image placed at `base`. */
export function imageMemory(image: Uint8Array, base: bigint): TextMemory {
  const at = (a: bigint, n: number): number => {
    const off = Number(a - base);
    if (off < 0 || off + n > image.length) throw new RangeError(`text 0x${a.toString(16)} (+${n}) is outside the image at 0x${base.toString(16)}`);
    return off;
  };
  return {
    read: (a, n) => image.slice(at(a, n), at(a, n) + n),
    write: (a, b) => image.set(b, at(a, b.length)),
  };
}

function expectPoke(ret: PokeResult, ip: bigint): void {
  if (ret < 0) throw new JitBug('jit.bug.poke', `text poke at 0x${BigInt.asUintN(64, ip).toString(16)} failed (${ret}): the site does not hold the expected instruction`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
