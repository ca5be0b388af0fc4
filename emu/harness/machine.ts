// A modeled 5.10 machine with programs loaded: the kernel, the observer's hooks, the loaded
// programs (or why each failed to load), prog-array updates with their text pokes, global
// variables, image snapshots, and test runs (run.ts).

import { TailjitError } from '../../src/errors.js';
import { decodeGlobals, findWritableGlobal, globalMaps, integerBytes, isWritableGlobalMap, type GlobalsSnapshot, type MapSpec, type ObjectFile, type ProgTypeName } from '../../src/elf/index.js';
import type { JitFunc } from '../../src/jit/types.js';
import { getProfile, type Profile } from '../../src/profile/index.js';
import { verify } from '../../src/verifier/index.js';
import type { VerifiedProgram } from '../../src/verifier/types.js';
import { UcHookType, X86Reg } from '../unicorn/index.js';
import { KernelError } from '../kernel/errors.js';
import type { KernelFunction } from '../kernel/helpers.js';
import { Kernel } from '../kernel/kernel.js';
import { Errno, ProgArrayMap, type EmuMap } from '../kernel/maps.js';
import { progArrayPokeRun, siteState, type PokeRunReport, type TrackedSite } from '../kernel/poke.js';
import { HarnessError, RunStop } from './errors.js';
import { Observer } from './observer.js';
import { loadVerified, type LoadedProgram } from './program.js';
import { RunSession, testRun, type RunRequest, type RunResult } from './run.js';

export interface MachineOptions {
  /** Default linux-5.10. */
  readonly profile?: Profile;
  /** Helpers and kernel functions (default: the kernel's). */
  readonly functions?: readonly KernelFunction[];
  readonly seed?: bigint;
  /**
   * Check the verifier's stack rules at run time (default true); off for programs built without
   * the verifier (the conformance suite gives every function 512 bytes).
   */
  readonly stackRules?: boolean;
}

export interface SnapshotProgram {
  readonly name: string;
  /** Every function's current image bytes, main first (`jited_func_lens` order). */
  readonly jited_hex: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class Machine {
  readonly kernel: Kernel;
  readonly observer: Observer;
  readonly programs = new Map<string, LoadedProgram>();
  /** Programs of the object that did not load, with the verifier's or the JIT's error. */
  readonly failures = new Map<string, TailjitError>();
  #object: ObjectFile | undefined;
  /** Called at each return to the entry stub during a test run (run.ts sets it). */
  onRepetition: (() => void) | undefined;
  /** The last write unicorn refused (unmapped or read-only) with its value; run.ts names the instruction from it. */
  lastWriteFault: { readonly address: bigint; readonly size: number; readonly value: bigint } | undefined;
  /** Program type each prog array is bound to (bpf_prog_array_compatible). */
  readonly #owners = new Map<ProgArrayMap, ProgTypeName>();

  constructor(options: MachineOptions = {}) {
    this.kernel = new Kernel({ profile: options.profile ?? getProfile('linux-5.10'), functions: options.functions, seed: options.seed });
    try {
      this.observer = new Observer(this.kernel, { stackRules: options.stackRules });
      this.#installFaultHooks();
    } catch (e) {
      this.kernel.close();
      throw e;
    }
  }

  get profile(): Profile {
    return this.kernel.profile;
  }

  get object(): ObjectFile | undefined {
    return this.#object;
  }

  /**
   * Traps end a run as faults. A refused write is recorded with its value (no MEM_WRITE hook:
   * any memory-access hook sends every load and store of the run through unicorn's slow path),
   * so a write fault (a stack overflow into the guard page) can be traced to its instruction.
   */
  #installFaultHooks(): void {
    const uc = this.kernel.uc;
    uc.hookInterrupt((intno) => {
      const rip = uc.regRead(X86Reg.RIP);
      // int3 (3) traps after the instruction; faults (#DE 0, #UD 6, #GP 13, ...) before it.
      const at = intno === 3 ? rip - 1n : rip;
      throw new RunStop('fault', `${INTERRUPTS[intno] ?? `interrupt ${intno}`} at ${this.kernel.describe(at)}`, at);
    });
    uc.hookInsnInvalid(() => {
      const rip = uc.regRead(X86Reg.RIP);
      throw new RunStop('fault', `invalid instruction (#UD) at ${this.kernel.describe(rip)}`, rip);
    });
    uc.hookMemInvalid((_type, address, size, value) => {
      this.lastWriteFault = { address, size, value };
      return false;
    }, UcHookType.MEM_WRITE_UNMAPPED | UcHookType.MEM_WRITE_PROT);
    const after = this.kernel.entryAfterCall;
    uc.hookCode(() => this.onRepetition?.(), after, after);
  }

  // --- loading -------------------------------------------------------------------------------

  /**
   * Loads an ELF object as libbpf would: its maps, then every program (verified and JIT-ed;
   * a program the verifier or the JIT refuses is recorded in `failures`), then the prog-array
   * slots declared with `__array(values, ...)`.
   */
  loadObject(obj: ObjectFile): void {
    if (this.#object) throw new HarnessError('harness.bad-request', 'this machine already holds an object');
    this.#object = obj;
    this.kernel.addMaps(obj.maps);
    const layout = this.kernel.layout(0);
    for (const spec of obj.programs) {
      try {
        const vp = verify(spec, obj, { profile: this.profile, layout, backend: 'jit' });
        this.load(vp, spec.section);
      } catch (e) {
        if (!(e instanceof TailjitError)) throw e;
        this.failures.set(spec.name, e);
      }
    }
    obj.maps.forEach((m, i) => {
      m.values?.forEach((prog, slot) => {
        if (prog !== null && this.programs.has(prog)) this.updateSlot(this.kernel.maps[i].name, slot, prog);
      });
    });
  }

  /** JITs and installs a verified program; its prog arrays become bound to its type. */
  load(vp: VerifiedProgram, section?: string): LoadedProgram {
    if (this.programs.has(vp.name)) throw new HarnessError('harness.bad-request', `a program named ${vp.name} is already loaded`);
    for (const i of vp.usedMaps) {
      const m = this.kernel.maps[i];
      if (m instanceof ProgArrayMap) this.#bind(m, vp.type, vp.name);
    }
    const prog = loadVerified(this.kernel, vp, (mapIndex, key) => this.#slotFunc(mapIndex, key), section);
    this.programs.set(vp.name, prog);
    this.observer.watch(prog);
    return prog;
  }

  #slotFunc(mapIndex: number, key: number): bigint | null {
    const m = this.kernel.maps[mapIndex];
    const p = m instanceof ProgArrayMap ? m.slots[key] : null;
    return p === null || p === undefined ? null : this.#progAt(p)?.object.bpfFunc ?? null;
  }

  #progAt(object: bigint): LoadedProgram | undefined {
    for (const p of this.programs.values()) if (p.object.address === object) return p;
    return undefined;
  }

  #bind(m: ProgArrayMap, type: ProgTypeName, who: string): void {
    const owner = this.#owners.get(m);
    if (owner === undefined) this.#owners.set(m, type);
    else if (owner !== type) {
      throw new KernelError('kernel.map-update', `prog array ${m.name} holds ${owner} programs; ${who} is ${type} (EINVAL)`, { errno: Errno.EINVAL });
    }
  }

  program(name: string): LoadedProgram {
    const p = this.programs.get(name);
    if (p) return p;
    const f = this.failures.get(name);
    if (f) throw new HarnessError('harness.not-loaded', `program ${name} did not load: ${f.message}`);
    throw new HarnessError('harness.unknown', `no program named ${name} (known: ${[...this.programs.keys()].join(', ') || 'none'})`);
  }

  map(name: string): EmuMap {
    const m = this.kernel.maps.find((x) => x.name === name);
    if (!m) throw new HarnessError('harness.unknown', `no map named ${name} (known: ${this.kernel.maps.map((x) => x.name).join(', ') || 'none'})`);
    return m;
  }

  // --- prog arrays and text pokes -------------------------------------------------------------

  /**
   * bpf_map_update_elem (prog = a name) or bpf_map_delete_elem (prog = null) on a prog array:
   * the slot exchange, then the poke run over every program tracking the array.
   */
  updateSlot(mapName: string, slot: number, prog: string | null): PokeRunReport {
    const m = this.map(mapName);
    if (!(m instanceof ProgArrayMap)) throw new KernelError('kernel.map-update', `${mapName} is not a prog array (EINVAL)`, { errno: Errno.EINVAL });
    if (!Number.isInteger(slot) || slot < 0 || slot >= m.spec.maxEntries) {
      throw new KernelError('kernel.map-update', `slot ${slot} of ${mapName}: max_entries is ${m.spec.maxEntries} (E2BIG)`, { errno: Errno.E2BIG });
    }
    const next = prog === null ? null : this.program(prog);
    if (next === null && m.slots[slot] === null) {
      throw new KernelError('kernel.map-update', `slot ${slot} of ${mapName} is empty (ENOENT)`, { errno: Errno.ENOENT });
    }
    if (next) this.#bind(m, next.type, next.name);
    const old = m.exchange(slot, next ? next.object.address : null);
    const oldFunc = old === null ? null : this.#progAt(old)?.object.bpfFunc ?? null;
    return progArrayPokeRun(this.kernel.mem, this.trackedSites(m.index), m.index, slot, oldFunc, next?.object.bpfFunc ?? null, this.profile.jit.cpu.nop5);
  }

  /** The direct tail-call sites on prog array `mapIndex`, of every loaded program. */
  trackedSites(mapIndex: number): TrackedSite[] {
    const out: TrackedSite[] = [];
    for (const p of this.programs.values()) for (const poke of p.jit.pokes) if (poke.mapIndex === mapIndex) out.push({ prog: p.name, poke });
    return out;
  }

  /**
   * Between runs every direct site must be in state B (slot holds T, site 2 jumps to T + X86_TAIL_CALL_OFFSET)
   * or C (slot empty); returns the disagreements.
   */
  pokeDisagreements(): string[] {
    const nop5 = this.profile.jit.cpu.nop5;
    const out: string[] = [];
    for (const p of this.programs.values()) {
      for (const poke of p.jit.pokes) {
        const state = siteState(this.kernel.mem, poke, nop5);
        const want = this.#slotFunc(poke.mapIndex, poke.key) === null ? 'C' : 'B';
        if (state !== want) out.push(`${p.name} insn ${poke.insnIdx}: state ${state}, slot ${poke.key} of ${this.kernel.maps[poke.mapIndex].name} wants ${want}`);
      }
    }
    return out;
  }

  /** Every program's current image bytes (direct sites as patched now). */
  snapshot(): SnapshotProgram[] {
    return [...this.programs.values()].map((p) => ({ name: p.name, jited_hex: p.jit.funcs.map((f) => hex(this.imageBytes(f))).join('') }));
  }

  imageBytes(f: JitFunc): Uint8Array {
    return this.kernel.mem.read(f.address, f.image.length);
  }

  // --- global data ---------------------------------------------------------------------------

  /** Writes an integer global of a writable section (`name` or `section:name`). */
  setvar(name: string, value: bigint | number): void {
    const g = findWritableGlobal(this.#requireObject(), name);
    if (!g.ok) throw new HarnessError(`harness.${g.reason}`, g.message);
    const m = this.map(g.spec.name);
    if (m.kind !== 'array') throw new HarnessError('harness.bug', `global data ${g.spec.section} is not an array map`);
    this.kernel.mem.write(m.elemAddress(0) + BigInt(g.offset), integerBytes(value, g.size));
  }

  /** The writable sections (`.bss`, `.data`, ...) back to their contents in the ELF file. */
  reset(): void {
    for (const spec of globalMaps(this.#requireObject())) {
      if (!isWritableGlobalMap(spec)) continue;
      const m = this.map(spec.name);
      if (m.kind === 'array') m.writeValue(0, spec.initial ?? new Uint8Array(spec.valueSize));
    }
  }

  /** Every global variable decoded with BTF, and the sections' bytes. */
  globals(): GlobalsSnapshot {
    const obj = this.#object;
    if (!obj) return { globals: {}, sections: {} };
    const contents = new Map<string, Uint8Array>();
    for (const spec of globalMaps(obj)) {
      const m = this.map(spec.name);
      if (m.kind === 'array') contents.set(spec.section ?? spec.name, m.readValue(0));
    }
    return decodeGlobals(obj, contents);
  }

  #requireObject(): ObjectFile {
    if (!this.#object) throw new HarnessError('harness.bad-request', 'no object is loaded');
    return this.#object;
  }

  // --- running -------------------------------------------------------------------------------

  run(progName: string, request: RunRequest = {}): RunResult {
    return testRun(this, this.program(progName), request);
  }

  /** A test run that a debugger resumes in steps (`run` is one of these resumed once). */
  startRun(progName: string, request: RunRequest = {}): RunSession {
    return new RunSession(this, this.program(progName), request);
  }

  close(): void {
    this.kernel.close();
  }
}

const INTERRUPTS: Record<number, string> = {
  0: 'divide error (#DE)', 1: 'debug trap (#DB)', 3: 'int3 (#BP)', 4: 'overflow (#OF)', 5: 'bound range (#BR)',
  6: 'invalid opcode (#UD)', 8: 'double fault (#DF)', 13: 'general protection fault (#GP)', 14: 'page fault (#PF)',
};
