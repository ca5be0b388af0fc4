// A small model of do_check(): every path from the entry of the main function (and of each
// global function) is followed with an abstract state per frame, just precise enough for
// what the rewrites and the JIT depend on:
//
// - which slots the kernel visits (`seen`, for the dead-code passes) and which branches it
//   decides statically (constants and unsigned ranges, pointers compared with NULL);
// - each function's stack depth: the lowest byte offset below r10 of any access, through r10
//   or through a pointer derived from it, also from another frame (the callee writing into
//   its caller's stack counts for the caller) and for stack memory passed to helpers;
// - the map and constant key of every bpf_tail_call site, the map of every map helper call,
//   and the offset and size of every context access.
//
// Approximations (listed in `Env.notChecked`): values are constants, unsigned ranges or
// "fp/ctx/map value/packet + constant"; bounds of map-value and packet accesses, helper
// argument types other than maps and loop termination are not checked. References and locks
// are tracked for the socket lookups, bpf_sk_release and bpf_spin_lock/unlock only (a state's
// `refs` and `lock`): enough for 5.10's rules about tail calls, calls and exits while one is held. Paths are pruned only when the whole abstract state repeats exactly, so a loop
// with an unknown bound is explored once per distinct state instead of being proved finite.
// For clang's -O2 output this visits the same instructions and finds the same depths and
// constants as the kernel.

import {
  AluOp, CallSrc, Class, FP, JmpOp, LD_IMM64, Mode, Size, Source,
  classOf, modeOf, opOf, sizeBytes, sizeOf, srcOf,
} from '../isa/index.js';
import { MapType } from '../elf/types.js';
import type { Env } from './env.js';
import { jumpOff, type KInsn } from './kinsn.js';
import { acquiresSocket, HelperId, helperName, mapArgRegister, returnsMapValueOrNull, unknownHelperMessage } from './helpers.js';
import { ctxLoadKind } from './ctx.js';
import { releaseNote } from './opcodes.js';

const U64 = (1n << 64n) - 1n;
const U32 = (1n << 32n) - 1n;
const BPF_F_RDONLY_PROG = 0x80;
/** The kernel gives up after this many instructions (BPF_COMPLEXITY_LIMIT_INSNS). */
const INSN_BUDGET = 1_000_000;

type Val =
  | { readonly t: 'uninit' }
  | { readonly t: 'scalar'; readonly lo: bigint; readonly hi: bigint }
  | { readonly t: 'fp'; readonly frame: number; readonly off: number | null }
  | { readonly t: 'ctx'; readonly off: number }
  | { readonly t: 'map'; readonly map: number }
  | { readonly t: 'mapval'; readonly map: number; readonly off: number | null; readonly nullable: boolean; readonly id: number }
  | { readonly t: 'pkt' | 'pkt_end' | 'pkt_meta' | 'ptr' }
  /** PTR_TO_SOCKET(_OR_NULL) from a lookup: `ref` is its reference's id (also the NULL-check id). */
  | { readonly t: 'sock'; readonly nullable: boolean; readonly ref: number }
  /** An argument of a global function: a scalar or the context, as its BTF says. */
  | { readonly t: 'garg' };

const UNINIT: Val = { t: 'uninit' };
const UNKNOWN: Val = { t: 'scalar', lo: 0n, hi: U64 };
const scalar = (lo: bigint, hi: bigint): Val => ({ t: 'scalar', lo, hi });
const konst = (v: bigint): Val => scalar(BigInt.asUintN(64, v), BigInt.asUintN(64, v));
const isConst = (v: Val): v is { t: 'scalar'; lo: bigint; hi: bigint } => v.t === 'scalar' && v.lo === v.hi;

/** One 8-byte stack slot: a spilled register, or the kind of each byte (m = data, 0 = zero). */
interface StackSlot {
  readonly spill: Val | null;
  readonly bytes: string;
}

interface Frame {
  readonly subprog: number;
  readonly regs: Val[];
  readonly stack: Map<number, StackSlot>;
  /** Slot to continue at in the caller after this frame's exit. */
  readonly ret: number;
}

/** An acquired reference (struct bpf_reference_state): its id and the slot of the acquiring call. */
interface Ref {
  readonly id: number;
  readonly insn: number;
}

interface State {
  frames: Frame[];
  /** References not yet released, in acquisition order. */
  refs: Ref[];
  /** active_spin_lock: the id of the map value whose lock is held, or 0. */
  lock: number;
}

export interface Analysis {
  /** Instructions executed by the model, as the kernel's "processed N insns" counts roughly. */
  readonly processed: number;
}

export function analyze(env: Env): Analysis {
  const a = new Analyzer(env);
  for (let i = 1; i < env.subprogs.length; i++) if (env.subprogs[i].global) a.run(i);
  a.run(0);
  env.notChecked.push(
    'bounds of map value and packet accesses',
    'helper argument types other than maps and stack memory',
    'reference tracking and spin locks beyond socket lookups, bpf_sk_release and bpf_spin_lock/unlock on a map value',
    'termination of loops (paths are pruned only on identical abstract states)',
  );
  return { processed: a.processed };
}

class Analyzer {
  processed = 0;
  private nextId = 1;
  private readonly visited = new Set<string>();

  constructor(private readonly env: Env) {}

  /** Verifies function `subprog` from its entry: the main one with r1 = ctx, a global one with unknown arguments. */
  run(subprog: number): void {
    const regs: Val[] = new Array(11).fill(UNINIT);
    regs[1] = subprog === 0 ? { t: 'ctx', off: 0 } : { t: 'garg' };
    if (subprog !== 0) for (let r = 2; r <= 5; r++) regs[r] = { t: 'garg' };
    regs[FP] = { t: 'fp', frame: 0, off: 0 };
    const work: { slot: number; st: State }[] = [{ slot: this.env.subprogs[subprog].start, st: { frames: [{ subprog, regs, stack: new Map(), ret: -1 }], refs: [], lock: 0 } }];
    while (work.length > 0) {
      const { slot, st } = work.pop()!;
      this.path(slot, st, work);
    }
  }

  /** Follows one path until it exits, is pruned, or forks (the other side goes to `work`). */
  private path(slot: number, st: State, work: { slot: number; st: State }[]): void {
    for (;;) {
      const key = `${slot}|${stateKey(st)}`;
      if (this.visited.has(key)) return;
      this.visited.add(key);
      if (++this.processed > INSN_BUDGET) {
        throw this.env.notModeled(`the path search exceeded ${INSN_BUDGET} instructions (the kernel would report "BPF program is too large")`, slot);
      }
      const env = this.env;
      const k = env.slots[slot];
      env.aux[slot].seen = true;
      const cls = classOf(k.code);
      const f = st.frames[st.frames.length - 1];
      switch (cls) {
        case Class.ALU:
        case Class.ALU64:
          this.alu(slot, k, f);
          slot++;
          break;
        case Class.LDX:
          this.load(slot, k, st, f);
          slot++;
          break;
        case Class.ST:
        case Class.STX:
          this.store(slot, k, st, f);
          slot++;
          break;
        case Class.LD:
          if (modeOf(k.code) === Mode.IMM && k.code !== LD_IMM64) {
            // check_ld_imm(): reached by a jump into the second half of an ld_imm64.
            env.fail('verifier.ld-imm64', 'invalid BPF_LD_IMM insn', slot);
          }
          if (k.code === LD_IMM64) {
            this.ldImm64(slot, k, f);
            env.aux[slot + 1].seen = true;
            slot += 2;
          } else {
            this.ldAbs(slot, k, st, f);
            slot++;
          }
          break;
        default: {
          const next = this.jump(slot, k, st, f, work);
          if (next === null) return;
          slot = next.slot;
          st = next.st;
        }
      }
    }
  }

  // ---- registers -------------------------------------------------------------------------

  private read(f: Frame, r: number, slot: number): Val {
    const v = f.regs[r];
    if (v.t === 'uninit') this.env.fail('verifier.uninit-register', `R${r} !read_ok`, slot);
    return v;
  }

  private write(f: Frame, r: number, v: Val, slot: number): void {
    if (r === FP) this.env.fail('verifier.frame-pointer', 'frame pointer is read only', slot);
    f.regs[r] = v;
  }

  // ---- ALU -------------------------------------------------------------------------------

  private alu(slot: number, k: KInsn, f: Frame): void {
    const env = this.env;
    const op = opOf(k.code);
    const is64 = classOf(k.code) === Class.ALU64;
    const x = srcOf(k.code) === Source.X;
    const v4 = env.options.profile.verifier.cpuV4;
    if (op === AluOp.NEG || op === AluOp.END) {
      // cpu v4's bswap is BPF_ALU64 | BPF_END with BPF_TO_LE (K).
      const ok = op === AluOp.NEG
        ? srcOf(k.code) === 0 && k.src === 0 && k.off === 0 && k.imm === 0
        : k.src === 0 && k.off === 0 && (k.imm === 16 || k.imm === 32 || k.imm === 64) && (!is64 || (v4 && !x));
      if (!ok) env.fail('verifier.reserved-fields', `BPF_${op === AluOp.NEG ? 'NEG' : 'END'} uses reserved fields`, slot);
      this.read(f, k.dst, slot);
      this.write(f, k.dst, UNKNOWN, slot);
      return;
    }
    if (op > AluOp.END) env.fail('verifier.reserved-fields', `invalid BPF_ALU opcode ${(op >> 4).toString(16)}`, slot);
    // cpu v4: movsx (MOV X with off 8/16, and 32 for ALU64) and sdiv/smod (off 1).
    const v4Off = !v4 ? false
      : op === AluOp.MOV ? x && (k.off === 8 || k.off === 16 || (is64 && k.off === 32))
      : (op === AluOp.DIV || op === AluOp.MOD) && k.off === 1;
    const offBad = k.off !== 0 && !v4Off;
    const reserved = x ? k.imm !== 0 || offBad : k.src !== 0 || offBad;
    if (reserved) env.fail('verifier.reserved-fields', `BPF_${op === AluOp.MOV ? 'MOV' : 'ALU'} uses reserved fields`, slot, releaseNote(env, k));
    const srcVal = x ? this.read(f, k.src, slot) : konst(is64 ? BigInt(k.imm) : BigInt(k.imm >>> 0));
    if (op === AluOp.MOV && k.off !== 0) {
      // A pointer source is allowed for a privileged loader (allow_ptr_leaks) and becomes unknown.
      let v: Val = isConst(srcVal) ? konst(BigInt.asIntN(k.off, srcVal.lo)) : UNKNOWN;
      if (!is64) v = v.t === 'scalar' && isConst(v) ? trunc32(v) : scalar(0n, U32);
      this.write(f, k.dst, v, slot);
      return;
    }
    if (op === AluOp.MOV) {
      let v = srcVal;
      if (!is64) v = v.t === 'scalar' ? trunc32(v) : scalar(0n, U32);
      this.write(f, k.dst, v, slot);
      return;
    }
    if (!x && (op === AluOp.DIV || op === AluOp.MOD) && k.imm === 0) env.fail('verifier.div-by-zero', 'div by zero', slot);
    if (!x && (op === AluOp.LSH || op === AluOp.RSH || op === AluOp.ARSH) && (k.imm < 0 || k.imm >= (is64 ? 64 : 32))) {
      env.fail('verifier.invalid-shift', `invalid shift ${k.imm}`, slot);
    }
    const dstVal = this.read(f, k.dst, slot);
    if (k.off === 1) {
      // sdiv/smod: the result is tracked as unknown (the kernel's signed bounds are not modeled;
      // a pointer operand is a privileged loader's unknown scalar, as in aluValue).
      this.write(f, k.dst, is64 ? UNKNOWN : scalar(0n, U32), slot);
      return;
    }
    this.write(f, k.dst, aluValue(op, is64, dstVal, srcVal), slot);
  }

  // ---- memory ----------------------------------------------------------------------------

  /** The frame index an access through `v` touches, and the absolute offset, or null. */
  private stackRef(v: Val, insnOff: number): { frame: number; off: number } | null {
    if (v.t !== 'fp' || v.off === null) return null;
    return { frame: v.frame, off: v.off + insnOff };
  }

  private touchStack(st: State, frame: number, off: number, size: number, slot: number): void {
    if (off >= 0 || off < -this.env.options.profile.verifier.maxStack) {
      this.env.fail('verifier.invalid-access', `invalid stack off=${off} size=${size}`, slot);
    }
    // update_stack_depth(): the deepest byte offset (in the profile's steps), for the function
    // owning that frame.
    const sp = this.env.subprogs[st.frames[frame].subprog];
    const step = this.env.options.profile.verifier.stackDepthGranularity;
    const depth = Math.ceil(-off / step) * step;
    if (depth > sp.stackDepth) sp.stackDepth = depth;
  }

  private load(slot: number, k: KInsn, st: State, f: Frame): void {
    const size = sizeBytes(sizeOf(k.code));
    const base = this.read(f, k.src, slot);
    if (modeOf(k.code) === Mode.MEMSX) {
      // cpu v4 ldsx: the value read, sign-extended to 64 bits (checkRawInsns admitted the mode).
      if (base.t === 'ctx' || base.t === 'garg') throw this.env.notModeled('sign-extending loads from the context', slot);
      const v = this.memRead(slot, k, st, base, size);
      this.write(f, k.dst, isConst(v) ? konst(BigInt.asIntN(size * 8, v.lo)) : UNKNOWN, slot);
      return;
    }
    this.write(f, k.dst, this.memRead(slot, k, st, base, size), slot);
  }

  private memRead(slot: number, k: KInsn, st: State, base: Val, size: number): Val {
    const env = this.env;
    const bits = size * 8;
    const any = scalar(0n, size === 8 ? U64 : (1n << BigInt(bits)) - 1n);
    switch (base.t) {
      case 'fp': {
        const ref = this.stackRef(base, k.off);
        if (!ref) {
          env.notChecked.push('variable-offset stack reads');
          return any;
        }
        this.touchStack(st, ref.frame, ref.off, size, slot);
        return readStack(st.frames[ref.frame].stack, ref.off, size);
      }
      case 'ctx':
      case 'garg':
        return this.ctxAccess(slot, k, base, size, false);
      case 'mapval':
        this.pointerKind(slot, 'mapval');
        return this.mapValueRead(base, k.off, size) ?? any;
      case 'pkt':
      case 'pkt_meta':
        this.pointerKind(slot, 'pkt');
        return any;
      case 'ptr':
        this.pointerKind(slot, 'ptr');
        return any;
      case 'sock':
        if (!base.nullable) throw env.notModeled('reads of struct bpf_sock fields (convert_ctx_accesses of sockets)', slot);
        return env.fail('verifier.invalid-access', `R${k.src} invalid mem access '${regTypeName(base, env)}'`, slot);
      default:
        return env.fail('verifier.invalid-access', `R${k.src} invalid mem access '${regTypeName(base, env)}'`, slot);
    }
  }

  /** bpf_map_direct_read(): a frozen read-only map (.rodata) reads as a constant. */
  private mapValueRead(base: Extract<Val, { t: 'mapval' }>, insnOff: number, size: number): Val | null {
    const map = this.env.map(base.map);
    if (base.off === null || !map.initial) return null;
    const readOnly = (map.flags & BPF_F_RDONLY_PROG) !== 0 || map.name.startsWith('.rodata');
    const at = base.off + insnOff;
    if (!readOnly || at < 0 || at + size > map.initial.length) return null;
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(map.initial[at + i]);
    return konst(v);
  }

  private ctxAccess(slot: number, k: KInsn, base: Extract<Val, { t: 'ctx' } | { t: 'garg' }>, size: number, write: boolean): Val {
    const env = this.env;
    const reg = write ? k.dst : k.src;
    if (base.t === 'ctx' && base.off !== 0) {
      env.fail('verifier.invalid-access', `dereference of modified ctx ptr R${reg} off=${base.off} disallowed`, slot);
    }
    this.pointerKind(slot, 'ctx');
    env.aux[slot].ctx = { off: k.off, size, write };
    if (write) return UNINIT;
    const kind = ctxLoadKind(env.program.type, k.off);
    if (kind === 'scalar') return scalar(0n, size === 8 ? U64 : (1n << BigInt(size * 8)) - 1n);
    return { t: kind };
  }

  /** "same insn cannot be used with different pointers" (the context must stay the context). */
  private pointerKind(slot: number, kind: string): void {
    const aux = this.env.aux[slot];
    if (aux.ptrKind !== undefined && aux.ptrKind !== kind && (aux.ptrKind === 'ctx' || kind === 'ctx')) {
      this.env.fail('verifier.invalid-access', 'same insn cannot be used with different pointers', slot);
    }
    aux.ptrKind = kind;
  }

  private store(slot: number, k: KInsn, st: State, f: Frame): void {
    const env = this.env;
    const cls = classOf(k.code);
    const mode = modeOf(k.code);
    const size = sizeBytes(sizeOf(k.code));
    if (cls === Class.ST && (mode !== Mode.MEM || k.src !== 0)) env.fail('verifier.reserved-fields', 'BPF_ST uses reserved fields', slot);
    if (cls === Class.STX && mode === Mode.ATOMIC && env.options.profile.verifier.atomics === 'bpf-atomic') {
      this.atomic(slot, k, st, f);
      return;
    }
    if (cls === Class.STX && mode === Mode.ATOMIC && ((sizeOf(k.code) !== Size.W && sizeOf(k.code) !== Size.DW) || k.imm !== 0)) {
      env.fail('verifier.reserved-fields', 'BPF_XADD uses reserved fields', slot);
    }
    const value: Val | null = cls === Class.STX ? this.read(f, k.src, slot) : null;
    const base = this.read(f, k.dst, slot);
    const xadd = cls === Class.STX && mode === Mode.ATOMIC;
    switch (base.t) {
      case 'fp': {
        const ref = this.stackRef(base, k.off);
        if (!ref) {
          env.notChecked.push('variable-offset stack writes');
          return;
        }
        this.touchStack(st, ref.frame, ref.off, size, slot);
        const stack = st.frames[ref.frame].stack;
        if (xadd) writeStack(stack, ref.off, size, UNKNOWN);
        else writeStack(stack, ref.off, size, value ?? UNKNOWN, value !== null);
        return;
      }
      case 'ctx':
      case 'garg':
        if (xadd) env.fail('verifier.invalid-access', `BPF_XADD stores into R${k.dst} ctx is not allowed`, slot);
        this.ctxAccess(slot, k, base, size, true);
        return;
      case 'mapval':
        this.pointerKind(slot, 'mapval');
        return;
      case 'pkt':
      case 'pkt_meta':
        this.pointerKind(slot, 'pkt');
        if (env.program.type === 'sched_cls') {
          throw env.notModeled('direct packet writes in a tc program (5.10 adds the bpf_unclone_prologue)', slot);
        }
        return;
      default:
        env.fail('verifier.invalid-access', `R${k.dst} invalid mem access '${regTypeName(base, env)}'`, slot);
    }
  }

  /**
   * check_atomic() of 5.12+ (the `bpf-atomic` profiles): the op, the size, the operands; no
   * context, packet or socket base; for the fetching forms (xchg and cmpxchg included) the old
   * value goes to src, or to r0 for cmpxchg; then the location is read and written. A privileged
   * loader may store pointers (allow_ptr_leaks), so "leaks addr into mem" is not checked.
   */
  private atomic(slot: number, k: KInsn, st: State, f: Frame): void {
    const env = this.env;
    if ((k.imm === LOAD_ACQ || k.imm === STORE_REL) && env.options.profile.verifier.cpuV4) {
      this.loadAcqStoreRel(slot, k, st, f);
      return;
    }
    if (!ATOMIC_OPS.has(k.imm)) env.fail('verifier.reserved-fields', `BPF_ATOMIC uses invalid atomic opcode ${(k.imm >>> 0).toString(16).padStart(2, '0')}`, slot);
    if (sizeOf(k.code) !== Size.W && sizeOf(k.code) !== Size.DW) env.fail('verifier.invalid-access', 'invalid atomic operand size', slot);
    this.read(f, k.src, slot);
    const base = this.read(f, k.dst, slot);
    if (k.imm === CMPXCHG) this.read(f, 0, slot);
    if (base.t === 'ctx' || base.t === 'garg' || base.t === 'pkt' || base.t === 'pkt_meta' || base.t === 'pkt_end') {
      env.fail('verifier.invalid-access', `BPF_ATOMIC stores into R${k.dst} ${regTypeName(base, env)} is not allowed`, slot);
    }
    const size = sizeBytes(sizeOf(k.code));
    // check_mem_access(BPF_READ) through dst: errors name the base register.
    const old = this.memRead(slot, { ...k, src: k.dst }, st, base, size);
    if (k.imm & FETCH) this.write(f, k.imm === CMPXCHG ? 0 : k.src, old.t === 'scalar' ? old : UNKNOWN, slot);
    if (base.t === 'fp') {
      const ref = this.stackRef(base, k.off);
      if (ref) writeStack(st.frames[ref.frame].stack, ref.off, size, UNKNOWN);
    }
  }

  /**
   * check_atomic_load() / check_atomic_store() (6.15): load-acquire is `dst = *(src + off)`,
   * store-release `*(dst + off) = src`, of any size, on the stack or a map value.
   */
  private loadAcqStoreRel(slot: number, k: KInsn, st: State, f: Frame): void {
    const env = this.env;
    const load = k.imm === LOAD_ACQ;
    const ptrReg = load ? k.src : k.dst;
    const base = this.read(f, ptrReg, slot);
    // atomic_ptr_type_ok(): not the context, a packet or a socket.
    if (base.t === 'ctx' || base.t === 'garg' || base.t === 'pkt' || base.t === 'pkt_meta' || base.t === 'pkt_end' || base.t === 'sock') {
      env.fail('verifier.invalid-access', `BPF_ATOMIC ${load ? 'loads from' : 'stores into'} R${ptrReg} ${regTypeName(base, env)} is not allowed`, slot);
    }
    const size = sizeBytes(sizeOf(k.code));
    if (load) {
      this.write(f, k.dst, this.memRead(slot, k, st, base, size), slot);
      return;
    }
    const value = this.read(f, k.src, slot);
    if (base.t !== 'fp') {
      if (base.t === 'mapval') this.pointerKind(slot, 'mapval');
      else if (base.t === 'ptr') this.pointerKind(slot, 'ptr');
      else env.fail('verifier.invalid-access', `R${k.dst} invalid mem access '${regTypeName(base, env)}'`, slot);
      return;
    }
    const ref = this.stackRef(base, k.off);
    if (!ref) {
      env.notChecked.push('variable-offset stack writes');
      return;
    }
    this.touchStack(st, ref.frame, ref.off, size, slot);
    writeStack(st.frames[ref.frame].stack, ref.off, size, value);
  }

  private ldImm64(slot: number, k: KInsn, f: Frame): void {
    const env = this.env;
    const m = env.aux[slot].ldMap;
    if (!m) {
      const v = (BigInt(env.slots[slot + 1].imm >>> 0) << 32n) | BigInt(k.imm >>> 0);
      this.write(f, k.dst, konst(v), slot);
    } else if (m.kind === 'fd') {
      this.write(f, k.dst, { t: 'map', map: m.index }, slot);
    } else {
      this.write(f, k.dst, { t: 'mapval', map: m.index, off: m.off, nullable: false, id: 0 }, slot);
    }
  }

  /** check_ld_abs(): legacy packet loads, which end up as a helper call. */
  private ldAbs(slot: number, k: KInsn, st: State, f: Frame): void {
    const env = this.env;
    const type = env.program.type;
    if (type !== 'socket_filter' && type !== 'sched_cls') {
      env.fail('verifier.ld-abs', 'BPF_LD_[ABS|IND] instructions not allowed for this program type', slot);
    }
    if (k.dst !== 0 || k.off !== 0 || sizeOf(k.code) === Size.DW || (modeOf(k.code) === Mode.ABS && k.src !== 0)) {
      env.fail('verifier.reserved-fields', 'BPF_LD_[ABS|IND] uses reserved fields', slot);
    }
    if (st.refs.length > 0) this.referenceLeak(st, slot, 'BPF_LD_[ABS|IND] cannot be mixed with socket references');
    if (st.lock) env.fail('verifier.spin-lock', 'BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region', slot);
    const ctx = this.read(f, 6, slot);
    if (ctx.t !== 'ctx') env.fail('verifier.ld-abs', 'at the time of BPF_LD_ABS|IND R6 != pointer to skb', slot);
    if (modeOf(k.code) === Mode.IND) this.read(f, k.src, slot);
    for (let r = 1; r <= 5; r++) f.regs[r] = UNINIT;
    f.regs[0] = UNKNOWN;
  }

  // ---- jumps and calls -------------------------------------------------------------------

  private jump(slot: number, k: KInsn, st: State, f: Frame, work: { slot: number; st: State }[]): { slot: number; st: State } | null {
    const env = this.env;
    const op = opOf(k.code);
    const jmp32 = classOf(k.code) === Class.JMP32;
    if (op === JmpOp.CALL) {
      if (srcOf(k.code) !== Source.K || k.off !== 0 || (k.src !== 0 && k.src !== CallSrc.LOCAL) || k.dst !== 0 || jmp32) {
        env.fail('verifier.reserved-fields', 'BPF_CALL uses reserved fields', slot, releaseNote(env, k));
      }
      if (st.lock && (k.src === CallSrc.LOCAL || k.imm !== HelperId.spin_unlock)) {
        env.fail('verifier.spin-lock', 'function calls are not allowed while holding a lock', slot);
      }
      if (k.src === CallSrc.LOCAL) return this.callLocal(slot, k, st, f);
      const next = this.callHelper(slot, k, st, f);
      if (k.imm === HelperId.tail_call && st.frames.length > 1 && env.options.profile.verifier.tailCallExitsSubprog) {
        // As the 6.18.44 host: the taken tail call first, the fall-through pushed for later.
        work.push({ slot: next, st: cloneState(st) });
        return this.takenTailCall(st);
      }
      return { slot: next, st };
    }
    if (op === JmpOp.JA) {
      // gotol (JMP32 | JA, cpu v4) has its offset in imm and off must be 0.
      const gotol = jmp32 && env.options.profile.verifier.gotol;
      if (srcOf(k.code) !== Source.K || (gotol ? k.off !== 0 : k.imm !== 0) || k.src !== 0 || k.dst !== 0 || (jmp32 && !gotol)) {
        env.fail('verifier.reserved-fields', 'BPF_JA uses reserved fields', slot);
      }
      return { slot: slot + jumpOff(k) + 1, st };
    }
    if (op === JmpOp.EXIT) {
      if (srcOf(k.code) !== Source.K || k.imm !== 0 || k.src !== 0 || k.dst !== 0 || jmp32) {
        env.fail('verifier.reserved-fields', 'BPF_EXIT uses reserved fields', slot);
      }
      if (st.lock) env.fail('verifier.spin-lock', 'bpf_spin_unlock is missing', slot);
      return this.exit(slot, st, f);
    }
    if (op > JmpOp.JSLE) env.fail('verifier.reserved-fields', `invalid BPF_JMP/JMP32 opcode ${(op >> 4).toString(16)}`, slot);
    const x = srcOf(k.code) === Source.X;
    if (x ? k.imm !== 0 : k.src !== 0) env.fail('verifier.reserved-fields', 'BPF_JMP/JMP32 uses reserved fields', slot);
    const dst = this.read(f, k.dst, slot);
    const src = x ? this.read(f, k.src, slot) : konst(jmp32 ? BigInt(k.imm >>> 0) : BigInt(k.imm));
    const taken = branchTaken(op, jmp32, dst, src);
    const target = slot + k.off + 1;
    if (taken === true) return { slot: target, st };
    if (taken === false) return { slot: slot + 1, st };
    // Both ways: the kernel continues with the fall-through and pushes the branch.
    const other = cloneState(st);
    refine(op, jmp32, true, other, k, x);
    refine(op, jmp32, false, st, k, x);
    work.push({ slot: target, st: other });
    return { slot: slot + 1, st };
  }

  private exit(slot: number, st: State, f: Frame): { slot: number; st: State } | null {
    if (st.frames.length === 1) {
      this.read(f, 0, slot);
      if (st.refs.length > 0) this.referenceLeak(st, slot);
      return null;
    }
    // prepare_func_exit() hands r0 to the caller unchecked: an unset r0 fails where it is read.
    st.frames.pop();
    const caller = st.frames[st.frames.length - 1];
    caller.regs[0] = f.regs[0];
    for (let r = 1; r <= 5; r++) caller.regs[r] = UNINIT;
    return { slot: f.ret, st };
  }

  /**
   * A taken tail call in a subprogram: the tail-called program replaces it and returns into
   * its caller, so the caller continues after the call with an unknown r0 (what the
   * subprogram's frame held is gone; the caller's r6-r9 and stack are untouched).
   */
  private takenTailCall(st: State): { slot: number; st: State } {
    const f = st.frames.pop()!;
    const caller = st.frames[st.frames.length - 1];
    caller.regs[0] = UNKNOWN;
    for (let r = 1; r <= 5; r++) caller.regs[r] = UNINIT;
    return { slot: f.ret, st };
  }

  private callLocal(slot: number, k: KInsn, st: State, f: Frame): { slot: number; st: State } {
    const env = this.env;
    const target = slot + k.imm + 1;
    const callee = env.findSubprog(target);
    const depth = st.frames.length;
    if (depth >= env.options.profile.verifier.maxCallFrames) {
      env.fail('verifier.call-stack-depth', `the call stack of ${depth + 1} frames is too deep`, slot);
    }
    if (env.subprogs[callee].global) {
      // A global function was verified on its own; the caller only sees an unknown result.
      for (let r = 1; r <= 5; r++) f.regs[r] = UNINIT;
      f.regs[0] = UNKNOWN;
      return { slot: slot + 1, st };
    }
    const regs: Val[] = new Array(11).fill(UNINIT);
    for (let r = 1; r <= 5; r++) regs[r] = f.regs[r];
    regs[FP] = { t: 'fp', frame: depth, off: 0 };
    st.frames.push({ subprog: callee, regs, stack: new Map(), ret: slot + 1 });
    return { slot: target, st };
  }

  private callHelper(slot: number, k: KInsn, st: State, f: Frame): number {
    const env = this.env;
    const id = k.imm;
    if (env.options.layout.helperAddress(id) === undefined) {
      const { message, notes } = unknownHelperMessage(id);
      env.fail('verifier.unknown-helper', message, slot, notes);
    }
    const mapReg = mapArgRegister(id);
    let map: number | undefined;
    if (mapReg !== undefined) {
      const v = this.read(f, mapReg, slot);
      if (v.t !== 'map') return env.fail('verifier.invalid-access', `R${mapReg} type=${regTypeName(v, env)} expected=map_ptr`, slot);
      map = v.map;
      this.checkMapFunc(slot, id, map);
      const aux = env.aux[slot];
      aux.mapPtr = aux.mapPtr === undefined || aux.mapPtr === map ? map : 'poison';
    } else if (env.object.maps.length > 0) {
      // A prog array may only be passed to bpf_tail_call.
      for (let r = 1; r <= 5; r++) {
        const v = f.regs[r];
        if (v.t === 'map' && env.map(v.map).type === MapType.PROG_ARRAY) this.checkMapFunc(slot, id, v.map);
      }
    }
    // Stack memory handed to a helper counts as accessed from the pointer's offset on.
    for (let r = 1; r <= 5; r++) {
      const v = f.regs[r];
      if (v.t === 'fp' && v.off !== null && v.off < 0) this.touchStack(st, v.frame, v.off, 1, slot);
    }
    if (id === HelperId.spin_lock || id === HelperId.spin_unlock) this.spinLock(slot, st, f, id === HelperId.spin_lock);
    if (id === HelperId.sk_release) this.release(slot, st, f);
    if (id === HelperId.tail_call) {
      this.recordKey(slot, f, map!);
      if (st.refs.length > 0) this.referenceLeak(st, slot, 'tail_call would lead to reference leak');
    }
    for (let r = 1; r <= 5; r++) f.regs[r] = UNINIT;
    // bpf_tail_call returns void: after one that fell through r0 is unset (5.10.223, 6.1.192
    // and the 6.18.44 host refuse reading it, test/verifier/fixtures/tail_exit/r0_*); a
    // subprogram may still exit so (programs/reject_stack256), its caller cannot read r0.
    // Other helpers but the lookups return a scalar here.
    if (returnsMapValueOrNull(id)) f.regs[0] = { t: 'mapval', map: map!, off: 0, nullable: true, id: this.nextId++ };
    else if (acquiresSocket(id)) f.regs[0] = this.acquire(slot, st);
    else if (id === HelperId.tail_call) f.regs[0] = UNINIT;
    else f.regs[0] = UNKNOWN;
    return slot + 1;
  }

  /**
   * A socket lookup's r0: the kernel takes one id for the register (++id_gen), then
   * acquire_reference_state() another, which becomes both its id and ref_obj_id.
   */
  private acquire(slot: number, st: State): Val {
    this.nextId++;
    const ref = this.nextId++;
    st.refs.push({ id: ref, insn: slot });
    return { t: 'sock', nullable: true, ref };
  }

  /** release_reference(): the reference ends; every copy of the pointer becomes unknown. */
  private release(slot: number, st: State, f: Frame): void {
    const v = this.read(f, 1, slot);
    if (v.t !== 'sock' || v.nullable) throw this.env.notModeled(`bpf_sk_release of R1 type=${regTypeName(v, this.env)} (only a non-NULL socket from a lookup is modeled)`, slot);
    st.refs = st.refs.filter((r) => r.id !== v.ref);
    replaceAll(st, (x) => (x.t === 'sock' && x.ref === v.ref ? UNKNOWN : x));
  }

  /** check_reference_leak(): one line per outstanding reference, then the caller's reason, if any. */
  private referenceLeak(st: State, slot: number, reason?: string): never {
    const lines = st.refs.map((r) => `Unreleased reference id=${r.id} alloc_insn=${this.env.aux[r.insn]?.origIdx ?? r.insn}`);
    if (reason) lines.push(reason);
    return this.env.fail('verifier.reference-leak', lines.join('\n'), slot);
  }

  /** process_spin_lock(): a lock at the constant offset of the map value's one bpf_spin_lock. */
  private spinLock(slot: number, st: State, f: Frame, lock: boolean): void {
    const env = this.env;
    const v = this.read(f, 1, slot);
    if (v.t !== 'mapval' || v.nullable) return env.fail('verifier.invalid-access', `R1 type=${regTypeName(v, env)} expected=map_value`, slot);
    const map = env.map(v.map);
    if (v.off === null) return env.fail('verifier.spin-lock', 'R1 doesn\'t have constant offset. bpf_spin_lock has to be at the constant offset', slot);
    const at = spinLockOffset(env, v.map);
    if (at === 'no-btf') env.fail('verifier.spin-lock', `map '${map.name}' has to have BTF in order to use bpf_spin_lock`, slot);
    if (at === 'many') env.fail('verifier.spin-lock', `map '${map.name}' has more than one 'struct bpf_spin_lock'`, slot);
    if (at === 'not-struct') env.fail('verifier.spin-lock', `map '${map.name}' is not a struct type or bpf_spin_lock is mangled`, slot);
    if (at === 'none') env.fail('verifier.spin-lock', `map '${map.name}' doesn't have 'struct bpf_spin_lock'`, slot);
    if (at !== v.off) env.fail('verifier.spin-lock', `off ${v.off} doesn't point to 'struct bpf_spin_lock'`, slot);
    if (lock) {
      if (st.lock) env.fail('verifier.spin-lock', 'Locking two bpf_spin_locks are not allowed', slot);
      st.lock = v.id;
      return;
    }
    if (!st.lock) env.fail('verifier.spin-lock', 'bpf_spin_unlock without taking a lock', slot);
    if (st.lock !== v.id) env.fail('verifier.spin-lock', 'bpf_spin_unlock of different lock', slot);
    st.lock = 0;
  }

  /** check_map_func_compatibility(), the two directions for prog arrays. */
  private checkMapFunc(slot: number, id: number, map: number): void {
    const env = this.env;
    const type = env.map(map).type;
    const bad = (type === MapType.PROG_ARRAY) !== (id === HelperId.tail_call);
    if (bad) env.fail('verifier.map-func-compat', `cannot pass map_type ${type} into func ${helperName(id)}#${id}`, slot);
    if (id === HelperId.tail_call && env.subprogs.length > 1 && !env.jitRequested) {
      env.fail('verifier.tail-call-mixing', env.options.profile.verifier.mixingMessage, slot);
    }
  }

  /** record_func_key(): a constant r3 below max_entries, the same on every path. */
  private recordKey(slot: number, f: Frame, map: number): void {
    const aux = this.env.aux[slot];
    const r3 = f.regs[3];
    const max = BigInt(this.env.map(map).maxEntries);
    if (!isConst(r3) || r3.lo >= max) {
      aux.mapKey = 'poison';
      return;
    }
    const key = Number(r3.lo);
    if (aux.mapKey === undefined) aux.mapKey = key;
    else if (aux.mapKey !== 'poison' && aux.mapKey !== key) aux.mapKey = 'poison';
  }
}

// ---- stack contents ----------------------------------------------------------------------

/** Applies `fix` to every register and spilled register of every frame. */
function replaceAll(st: State, fix: (v: Val) => Val): void {
  for (const f of st.frames) {
    for (let r = 0; r < 11; r++) f.regs[r] = fix(f.regs[r]);
    for (const [spi, s] of f.stack) if (s.spill) f.stack.set(spi, { spill: fix(s.spill), bytes: s.bytes });
  }
}

/**
 * btf_find_spin_lock() on the map's value type: the offset of its one top-level `struct
 * bpf_spin_lock` member, or why there is none.
 */
function spinLockOffset(env: Env, index: number): number | 'no-btf' | 'not-struct' | 'many' | 'none' {
  const btf = env.object.btf;
  const id = env.map(index).btfValueTypeId;
  if (!btf || !id) return 'no-btf';
  const t = btf.skipMods(id);
  if (t.kind !== 'struct' && t.kind !== 'union') return 'not-struct';
  const locks = t.members.filter((m) => {
    const mt = btf.skipMods(m.type);
    return mt.kind === 'struct' && mt.name === 'bpf_spin_lock';
  });
  if (locks.length > 1) return 'many';
  return locks.length === 0 ? 'none' : locks[0].bitOffset / 8;
}

function readStack(stack: Map<number, StackSlot>, off: number, size: number): Val {
  const spi = Math.floor(off / 8);
  const s = stack.get(spi);
  const within = off - spi * 8;
  if (!s) return scalar(0n, size === 8 ? U64 : (1n << BigInt(size * 8)) - 1n);
  if (s.spill && size === 8 && within === 0) return s.spill;
  const bytes = s.bytes.slice(within, within + size);
  if (bytes.length === size && /^0+$/.test(bytes)) return konst(0n);
  return scalar(0n, size === 8 ? U64 : (1n << BigInt(size * 8)) - 1n);
}

function writeStack(stack: Map<number, StackSlot>, off: number, size: number, v: Val, fromReg = true): void {
  const spi = Math.floor(off / 8);
  const within = off - spi * 8;
  if (size === 8 && within === 0 && fromReg && !(isConst(v) && v.lo === 0n)) {
    stack.set(spi, { spill: v, bytes: 'rrrrrrrr' });
    return;
  }
  const old = stack.get(spi);
  const prev = old && !old.spill ? old.bytes : old?.spill ? 'mmmmmmmm' : '????????';
  const mark = fromReg && isConst(v) && v.lo === 0n ? '0' : 'm';
  const bytes = prev.slice(0, within) + mark.repeat(size) + prev.slice(within + size);
  stack.set(spi, { spill: null, bytes: bytes.slice(0, 8) });
}

// ---- values ------------------------------------------------------------------------------

function trunc32(v: { lo: bigint; hi: bigint }): Val {
  if (v.lo === v.hi) return konst(v.lo & U32);
  return v.hi <= U32 ? scalar(v.lo, v.hi) : scalar(0n, U32);
}

const isPtr = (v: Val): boolean => v.t !== 'scalar' && v.t !== 'uninit' && v.t !== 'garg';

function addToPointer(p: Val, c: Val, negate: boolean): Val {
  const delta = isConst(c) ? Number(BigInt.asIntN(64, c.lo)) * (negate ? -1 : 1) : null;
  const move = (off: number | null) => (off === null || delta === null ? null : off + delta);
  switch (p.t) {
    case 'fp':
      return { ...p, off: move(p.off) };
    case 'mapval':
      return { ...p, off: move(p.off) };
    case 'ctx':
      return delta === null ? UNKNOWN : { t: 'ctx', off: p.off + delta };
    case 'pkt':
    case 'pkt_meta':
      return p;
    default:
      return UNKNOWN;
  }
}

/** adjust_scalar_min_max_vals() / adjust_ptr_min_max_vals(), as far as this model tracks. */
function aluValue(op: number, is64: boolean, d: Val, s: Val): Val {
  if (isPtr(d) || isPtr(s)) {
    if (!is64) return scalar(0n, U32);
    if (op === AluOp.ADD && isPtr(d) && s.t === 'scalar') return addToPointer(d, s, false);
    if (op === AluOp.ADD && isPtr(s) && d.t === 'scalar') return addToPointer(s, d, false);
    if (op === AluOp.SUB && isPtr(d) && s.t === 'scalar') return addToPointer(d, s, true);
    return UNKNOWN;
  }
  if (d.t !== 'scalar' || s.t !== 'scalar') return UNKNOWN;
  const mask = is64 ? U64 : U32;
  const width = is64 ? 64n : 32n;
  const dd = is64 ? d : trunc32(d) as { t: 'scalar'; lo: bigint; hi: bigint };
  const ss = is64 ? s : trunc32(s) as { t: 'scalar'; lo: bigint; hi: bigint };
  const both = dd.lo === dd.hi && ss.lo === ss.hi;
  const a = dd.lo;
  const b = ss.lo;
  let r: Val;
  switch (op) {
    case AluOp.ADD:
      r = both ? konst((a + b) & mask) : dd.hi + ss.hi <= mask ? scalar(dd.lo + ss.lo, dd.hi + ss.hi) : scalar(0n, mask);
      break;
    case AluOp.SUB:
      r = both ? konst((a - b) & mask) : scalar(0n, mask);
      break;
    case AluOp.MUL:
      r = both ? konst((a * b) & mask) : dd.hi * ss.hi <= mask ? scalar(dd.lo * ss.lo, dd.hi * ss.hi) : scalar(0n, mask);
      break;
    case AluOp.AND:
      r = both ? konst(a & b) : ss.lo === ss.hi ? scalar(0n, ss.lo < dd.hi ? ss.lo : dd.hi) : dd.lo === dd.hi ? scalar(0n, dd.lo < ss.hi ? dd.lo : ss.hi) : scalar(0n, dd.hi < ss.hi ? dd.hi : ss.hi);
      break;
    case AluOp.OR:
      r = both ? konst(a | b) : scalar(0n, mask);
      break;
    case AluOp.XOR:
      r = both ? konst(a ^ b) : scalar(0n, mask);
      break;
    case AluOp.LSH:
      if (ss.lo !== ss.hi || ss.lo >= width) r = scalar(0n, mask);
      else r = both ? konst((a << b) & mask) : (dd.hi << ss.lo) <= mask ? scalar(dd.lo << ss.lo, dd.hi << ss.lo) : scalar(0n, mask);
      break;
    case AluOp.RSH:
      if (ss.lo !== ss.hi || ss.lo >= width) r = scalar(0n, mask);
      else r = scalar(dd.lo >> ss.lo, dd.hi >> ss.lo);
      break;
    case AluOp.ARSH:
      if (both && b < width) {
        const sv = is64 ? BigInt.asIntN(64, a) : BigInt.asIntN(32, a);
        r = konst((sv >> b) & mask);
      } else r = scalar(0n, mask);
      break;
    default:
      // DIV and MOD results are not tracked by 5.10 (mark_reg_unknown).
      r = scalar(0n, mask);
  }
  return r;
}

/** is_branch_taken(): true / false when the outcome is known, else null. */
function branchTaken(op: number, jmp32: boolean, d: Val, s: Val): boolean | null {
  if (d.t !== 'scalar' && isPtr(d)) {
    // Pointers that can never be NULL compared with 0 (reg_type_not_null: map values).
    if ((d.t === 'mapval' || d.t === 'sock') && !d.nullable && isConst(s) && s.lo === 0n && !jmp32) {
      if (op === JmpOp.JEQ) return false;
      if (op === JmpOp.JNE) return true;
    }
    return null;
  }
  if (d.t !== 'scalar' || s.t !== 'scalar') return null;
  let [dl, dh, sl, sh] = [d.lo, d.hi, s.lo, s.hi];
  if (jmp32) {
    const d32 = trunc32(d) as { lo: bigint; hi: bigint };
    const s32 = trunc32(s) as { lo: bigint; hi: bigint };
    [dl, dh, sl, sh] = [d32.lo, d32.hi, s32.lo, s32.hi];
  }
  const signBit = jmp32 ? 1n << 31n : 1n << 63n;
  const signedOk = (dl === dh && sl === sh) || (dh < signBit && sh < signBit);
  const sgn = (v: bigint) => (jmp32 ? BigInt.asIntN(32, v) : BigInt.asIntN(64, v));
  const [a, b] = [sgn(dl), sgn(sl)];
  switch (op) {
    case JmpOp.JEQ:
      if (dl === dh && sl === sh) return dl === sl;
      return dh < sl || sh < dl ? false : null;
    case JmpOp.JNE:
      if (dl === dh && sl === sh) return dl !== sl;
      return dh < sl || sh < dl ? true : null;
    case JmpOp.JSET:
      if (dl === dh && sl === sh) return (dl & sl) !== 0n;
      return null;
    case JmpOp.JGT:
      return dl > sh ? true : dh <= sl ? false : null;
    case JmpOp.JGE:
      return dl >= sh ? true : dh < sl ? false : null;
    case JmpOp.JLT:
      return dh < sl ? true : dl >= sh ? false : null;
    case JmpOp.JLE:
      return dh <= sl ? true : dl > sh ? false : null;
    default:
      if (!signedOk) return null;
      if (dl === dh && sl === sh) {
        if (op === JmpOp.JSGT) return a > b;
        if (op === JmpOp.JSGE) return a >= b;
        if (op === JmpOp.JSLT) return a < b;
        if (op === JmpOp.JSLE) return a <= b;
      }
      // Both non-negative: signed order is the unsigned one.
      if (op === JmpOp.JSGT) return branchTaken(JmpOp.JGT, jmp32, d, s);
      if (op === JmpOp.JSGE) return branchTaken(JmpOp.JGE, jmp32, d, s);
      if (op === JmpOp.JSLT) return branchTaken(JmpOp.JLT, jmp32, d, s);
      if (op === JmpOp.JSLE) return branchTaken(JmpOp.JLE, jmp32, d, s);
      return null;
  }
}

/** reg_set_min_max() and mark_ptr_or_null_regs(), for the cases this model tracks. */
function refine(op: number, jmp32: boolean, taken: boolean, st: State, k: KInsn, x: boolean): void {
  const f = st.frames[st.frames.length - 1];
  const d = f.regs[k.dst];
  const nullCheck = !x && k.imm === 0 && (op === JmpOp.JEQ || op === JmpOp.JNE) && !jmp32;
  // NULL checks of a map value: the pointer becomes non-NULL or the scalar 0 on each side.
  if (d.t === 'mapval' && d.nullable && nullCheck) {
    const isNull = (op === JmpOp.JEQ) === taken;
    const id = d.id;
    const fix = (v: Val): Val => (v.t === 'mapval' && v.id === id ? (isNull ? konst(0n) : { ...v, nullable: false }) : v);
    for (let r = 0; r < 11; r++) f.regs[r] = fix(f.regs[r]);
    for (const [spi, s] of f.stack) if (s.spill) f.stack.set(spi, { spill: fix(s.spill), bytes: s.bytes });
    return;
  }
  // The same for a socket, in every frame; a NULL socket holds no reference.
  if (d.t === 'sock' && d.nullable && nullCheck) {
    const isNull = (op === JmpOp.JEQ) === taken;
    const ref = d.ref;
    replaceAll(st, (v) => (v.t === 'sock' && v.ref === ref ? (isNull ? konst(0n) : { ...v, nullable: false }) : v));
    if (isNull) st.refs = st.refs.filter((r) => r.id !== ref);
    return;
  }
  if (x || jmp32 || d.t !== 'scalar') return;
  const c = BigInt.asUintN(64, BigInt(k.imm));
  let { lo, hi } = d;
  const eq = (op === JmpOp.JEQ && taken) || (op === JmpOp.JNE && !taken);
  if (eq) [lo, hi] = [c, c];
  else if ((op === JmpOp.JGT && taken) || (op === JmpOp.JLE && !taken)) lo = c + 1n > lo ? c + 1n : lo;
  else if ((op === JmpOp.JGT && !taken) || (op === JmpOp.JLE && taken)) hi = c < hi ? c : hi;
  else if ((op === JmpOp.JGE && taken) || (op === JmpOp.JLT && !taken)) lo = c > lo ? c : lo;
  else if ((op === JmpOp.JGE && !taken) || (op === JmpOp.JLT && taken)) hi = c - 1n < hi ? c - 1n : hi;
  else return;
  if (lo <= hi) f.regs[k.dst] = scalar(lo, hi);
}

/** BPF_ATOMIC ops check_atomic() accepts, BPF_FETCH, and cmpxchg (5.12). */
const ATOMIC_OPS = new Set([0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1]);
const FETCH = 0x01;
const CMPXCHG = 0xf1;
/** BPF_LOAD_ACQ and BPF_STORE_REL (6.15). */
const LOAD_ACQ = 0x100;
const STORE_REL = 0x110;

function regTypeName(v: Val, env?: Env): string {
  switch (v.t) {
    case 'scalar': return env?.options.profile.verifier.scalarName ?? 'inv';
    case 'fp': return 'fp';
    case 'map': return 'map_ptr';
    case 'mapval': return v.nullable ? 'map_value_or_null' : 'map_value';
    case 'sock': return v.nullable ? 'sock_or_null' : 'sock';
    case 'uninit': return '?';
    default: return v.t;
  }
}

// ---- state copies and keys ---------------------------------------------------------------

function cloneState(st: State): State {
  return {
    frames: st.frames.map((f) => ({ subprog: f.subprog, regs: [...f.regs], stack: new Map(f.stack), ret: f.ret })),
    refs: [...st.refs],
    lock: st.lock,
  };
}

function valKey(v: Val): string {
  switch (v.t) {
    case 'scalar': return v.lo === v.hi ? `k${v.lo}` : `s${v.lo}-${v.hi}`;
    case 'fp': return `f${v.frame}:${v.off}`;
    case 'ctx': return `c${v.off}`;
    case 'map': return `m${v.map}`;
    case 'mapval': return `v${v.map}:${v.off}:${v.nullable ? `n${v.id}` : ''}`;
    case 'sock': return `o${v.nullable ? 'n' : ''}${v.ref}`;
    default: return v.t[0] + v.t.slice(-1);
  }
}

function stateKey(st: State): string {
  const held = `${st.lock}|${st.refs.map((r) => r.id).join(',')}|`;
  return held + st.frames
    .map((f) => {
      const stack = [...f.stack.entries()].sort((a, b) => a[0] - b[0]).map(([spi, s]) => `${spi}=${s.spill ? valKey(s.spill) : s.bytes}`);
      return `${f.subprog}@${f.ret}:${f.regs.map(valKey).join(',')}/${stack.join(',')}`;
    })
    .join('#');
}
