// The reference interpreter: RFC 9669 with cpu v4, bpf2bpf calls with real frames, helpers from
// a registry and tail calls counted as the profile says.
//
// Registers are unsigned 64-bit bigints in a BigUint64Array (each result is also reduced with
// BigInt.asUintN, a form V8 compiles to plain 64-bit arithmetic; signed operations reinterpret
// with BigInt.asIntN). The program is decoded once (program.ts); the run
// loop is one switch over the op kinds.
//
// Frames: the main program runs in frame 0. `call local` pushes a frame with its own zeroed
// 512-byte stack (r10 = its top) and saves the caller's r6-r9 and return point in it; `exit`
// from a frame other than 0 pops it and restores them, as the kernel's interpreter does by
// giving each call its own register file. A program may have at most MAX_CALL_FRAMES frames of
// its own; a taken tail call replaces the current frame's program (same stack, same r10,
// r1 = ctx, other registers as they are) and makes that frame the new program's first.

import { AtomicOp, BPF_FUNC_tail_call, PseudoSrc, type Insn } from '../isa/index.js';
import { DEFAULT_PROFILE, PROFILES, type Profile } from '../profile/index.js';
import { TailjitError } from '../errors.js';
import { InterpError, hex, type RunStats } from './errors.js';
import type { InterpEnvironment, ProgArray } from './env.js';
import { HelperRegistry, type HelperContext, type HelperEntry } from './helpers.js';
import { INPUT_BASE, Memory, type AccessSize } from './memory.js';
import { InterpProgram, Kind as KindImport, type Op } from './program.js';

// A module-local binding: loaders that rewrite imports into namespace lookups (vitest's) would
// otherwise pay a getter call for every case label of the run loop (measured: 5x slower).
const Kind = KindImport;

/** MAX_CALL_FRAMES: frames one program may stack through bpf2bpf calls (main included). */
export const MAX_CALL_FRAMES = 8;
export const DEFAULT_INSN_BUDGET = 10_000_000;
/** Instructions between two looks at the clock when a wall-time budget is set. */
const CHECK_EVERY = 1 << 16;

export interface Budget {
  /** Most BPF instructions one run may execute (default DEFAULT_INSN_BUDGET). */
  readonly insns?: number;
  /** Most milliseconds one run may take (checked every 65536 instructions); default none. */
  readonly wallMs?: number;
}

export interface InterpOptions {
  /** Kernel whose tail-call counting is modelled; default linux-5.10. */
  readonly profile?: Profile;
  /** Helpers by id; default none (bpf_tail_call is built in). */
  readonly helpers?: HelperRegistry;
  readonly env?: InterpEnvironment;
  /** Input memory / context: r1 = its address, r2 = its length; written in place. Without it r1 = r2 = 0. */
  readonly mem?: Uint8Array;
  /** Initial r1..r5 (in that order), replacing the input's address and length. */
  readonly args?: readonly bigint[];
  readonly budget?: Budget;
}

export interface RunResult {
  readonly r0: bigint;
  readonly stats: RunStats;
  /** True when a helper ended the run (HelperContext.stopRun) rather than the main `exit`. */
  readonly stoppedByHelper: boolean;
}

/** A live frame: the program it runs, and what its caller needs back when it exits. */
class Frame {
  program!: InterpProgram;
  code!: readonly Op[];
  retPc = 0;
  s6 = 0n;
  s7 = 0n;
  s8 = 0n;
  s9 = 0n;
  /** By-value tail call counter (5.10): copied from the caller at the call. */
  tailCount = 0;
  /** Frames of the frame's program up to and including this one (1 = its main function). */
  progDepth = 1;
  /** Tail calls taken along the call path to here (for maxChainLength). */
  chain = 0;
}

const M32 = 0xffffffffn;
const M64 = 0xffffffffffffffffn;

const freshStats = (): RunStats => ({
  insns: 0,
  helperCalls: 0,
  localCalls: 0,
  tailCalls: { taken: 0, refused: { emptySlot: 0, outOfBounds: 0, limit: 0 } },
  maxCallDepth: 0,
  maxChainLength: 0,
});

const copyStats = (s: RunStats): RunStats => ({ ...s, tailCalls: { taken: s.tailCalls.taken, refused: { ...s.tailCalls.refused } } });

class HelperCall implements HelperContext {
  program!: InterpProgram;
  slot = 0;
  stopped: bigint | null = null;

  constructor(readonly memory: Memory, readonly env: InterpEnvironment, readonly profile: Profile) {}

  load(addr: bigint, size: AccessSize): bigint { return this.memory.load(addr, size); }
  store(addr: bigint, size: AccessSize, value: bigint): void { this.memory.store(addr, size, value); }
  readBytes(addr: bigint, length: number): Uint8Array { return this.memory.readBytes(addr, length); }
  writeBytes(addr: bigint, bytes: Uint8Array): void { this.memory.writeBytes(addr, bytes); }
  stopRun(r0: bigint): void { this.stopped = BigInt.asUintN(64, r0); }
}

export class Interpreter {
  readonly program: InterpProgram;
  readonly profile: Profile;
  readonly memory: Memory;
  private readonly helpers: HelperRegistry;
  private readonly env: InterpEnvironment;
  private readonly options: InterpOptions;
  private readonly insnBudget: number;
  private readonly regs = new BigUint64Array(11);
  private readonly frames: Frame[] = [];
  private readonly call: HelperCall;
  private sharedTailCount = 0;
  private stats: RunStats = freshStats();
  private deadline = Infinity;

  constructor(program: InterpProgram | readonly Insn[], options: InterpOptions = {}) {
    this.program = program instanceof InterpProgram ? program : new InterpProgram(program);
    this.options = options;
    this.profile = options.profile ?? PROFILES[DEFAULT_PROFILE];
    this.helpers = options.helpers ?? new HelperRegistry();
    this.env = options.env ?? {};
    this.insnBudget = checkBudget('insns', options.budget?.insns) ?? DEFAULT_INSN_BUDGET;
    checkBudget('wallMs', options.budget?.wallMs);
    this.memory = new Memory(this.env.regions ?? []);
    if (options.mem) this.memory.addRegion({ name: 'input', base: INPUT_BASE, bytes: options.mem });
    this.call = new HelperCall(this.memory, this.env, this.profile);
  }

  /** r0..r10 as the last run left them (a copy). */
  registers(): bigint[] {
    return [...this.regs];
  }

  /** Runs the program once from a fresh state (zeroed registers and stack, counters at 0). */
  run(): RunResult {
    this.reset();
    const r0 = this.execute();
    const stoppedByHelper = this.call.stopped !== null;
    return { r0, stats: copyStats(this.stats), stoppedByHelper };
  }

  private reset(): void {
    const r = this.regs;
    r.fill(0n);
    const mem = this.options.mem;
    if (mem) {
      r[1] = INPUT_BASE;
      r[2] = BigInt(mem.length);
    }
    this.options.args?.slice(0, 5).forEach((v, i) => { r[i + 1] = BigInt.asUintN(64, v); });
    this.memory.enterFrame(0);
    r[10] = this.memory.stackTop(0);
    const f = this.frameAt(0);
    f.program = this.program;
    f.code = this.program.code;
    f.tailCount = 0;
    f.progDepth = 1;
    f.chain = 0;
    this.sharedTailCount = 0;
    this.stats = freshStats();
    this.stats.maxCallDepth = 1;
    this.call.stopped = null;
    const wall = this.options.budget?.wallMs;
    this.deadline = wall === undefined ? Infinity : performance.now() + wall;
  }

  private frameAt(depth: number): Frame {
    let f = this.frames[depth];
    if (!f) {
      f = new Frame();
      this.frames[depth] = f;
    }
    return f;
  }

  private execute(): bigint {
    const r = this.regs;
    const mem = this.memory;
    let depth = 0;
    let frame = this.frames[0];
    let code = frame.code;
    let pc = 0;
    let n = 0;
    let checkAt = Math.min(this.insnBudget, CHECK_EVERY);
    try {
      for (;;) {
        const op = code[pc];
        if (n >= checkAt) checkAt = this.checkpoint(n);
        n++;
        switch (op.kind) {
          // ---- ALU64
          case Kind.ADD64: r[op.dst] = BigInt.asUintN(64, r[op.dst] + (op.x ? r[op.src] : op.imm)); break;
          case Kind.SUB64: r[op.dst] = BigInt.asUintN(64, r[op.dst] - (op.x ? r[op.src] : op.imm)); break;
          case Kind.MUL64: r[op.dst] = BigInt.asUintN(64, r[op.dst] * (op.x ? r[op.src] : op.imm)); break;
          case Kind.DIV64: { // udiv by 0 gives 0
            const b = op.x ? r[op.src] : op.imm;
            r[op.dst] = b === 0n ? 0n : r[op.dst] / b;
            break;
          }
          case Kind.SDIV64: { // by 0 gives 0; INT64_MIN / -1 wraps to INT64_MIN
            const b = op.x ? BigInt.asIntN(64, r[op.src]) : op.simm;
            r[op.dst] = b === 0n ? 0n : BigInt.asUintN(64, BigInt.asIntN(64, r[op.dst]) / b);
            break;
          }
          case Kind.MOD64: { // by 0 leaves dst unchanged
            const b = op.x ? r[op.src] : op.imm;
            if (b !== 0n) r[op.dst] = r[op.dst] % b;
            break;
          }
          case Kind.SMOD64: { // truncating (sign of the dividend); INT64_MIN % -1 = 0
            const b = op.x ? BigInt.asIntN(64, r[op.src]) : op.simm;
            if (b !== 0n) r[op.dst] = BigInt.asUintN(64, BigInt.asIntN(64, r[op.dst]) % b);
            break;
          }
          case Kind.OR64: r[op.dst] = r[op.dst] | (op.x ? r[op.src] : op.imm); break;
          case Kind.AND64: r[op.dst] = r[op.dst] & (op.x ? r[op.src] : op.imm); break;
          case Kind.XOR64: r[op.dst] = r[op.dst] ^ (op.x ? r[op.src] : op.imm); break;
          case Kind.LSH64: r[op.dst] = BigInt.asUintN(64, r[op.dst] << ((op.x ? r[op.src] : op.imm) & 63n)); break;
          case Kind.RSH64: r[op.dst] = r[op.dst] >> ((op.x ? r[op.src] : op.imm) & 63n); break;
          case Kind.ARSH64: r[op.dst] = BigInt.asUintN(64, BigInt.asIntN(64, r[op.dst]) >> ((op.x ? r[op.src] : op.imm) & 63n)); break;
          case Kind.MOV64: r[op.dst] = op.x ? r[op.src] : op.imm; break;
          case Kind.MOVSX64: r[op.dst] = BigInt.asUintN(64, BigInt.asIntN(op.size * 8, r[op.src])); break;
          case Kind.NEG64: r[op.dst] = BigInt.asUintN(64, -r[op.dst]); break;

          // ---- ALU (32-bit): operands are the low halves, results zero-extended
          case Kind.ADD32: r[op.dst] = BigInt.asUintN(32, r[op.dst] + (op.x ? r[op.src] : op.imm)); break;
          case Kind.SUB32: r[op.dst] = BigInt.asUintN(32, r[op.dst] - (op.x ? r[op.src] : op.imm)); break;
          case Kind.MUL32: r[op.dst] = BigInt.asUintN(32, r[op.dst] * (op.x ? r[op.src] : op.imm)); break;
          case Kind.DIV32: {
            const b = op.x ? r[op.src] & M32 : op.imm;
            r[op.dst] = b === 0n ? 0n : (r[op.dst] & M32) / b;
            break;
          }
          case Kind.SDIV32: { // INT32_MIN / -1 = 2^31, which is INT32_MIN again as 32 bits
            const b = op.x ? BigInt.asIntN(32, r[op.src]) : op.simm;
            r[op.dst] = b === 0n ? 0n : BigInt.asUintN(32, BigInt.asIntN(32, r[op.dst]) / b);
            break;
          }
          case Kind.MOD32: { // by 0: dst keeps its low half, zero-extended
            const b = op.x ? r[op.src] & M32 : op.imm;
            r[op.dst] = b === 0n ? r[op.dst] & M32 : (r[op.dst] & M32) % b;
            break;
          }
          case Kind.SMOD32: {
            const b = op.x ? BigInt.asIntN(32, r[op.src]) : op.simm;
            r[op.dst] = b === 0n ? r[op.dst] & M32 : BigInt.asUintN(32, BigInt.asIntN(32, r[op.dst]) % b);
            break;
          }
          case Kind.OR32: r[op.dst] = (r[op.dst] | (op.x ? r[op.src] : op.imm)) & M32; break;
          case Kind.AND32: r[op.dst] = r[op.dst] & (op.x ? r[op.src] : op.imm) & M32; break;
          case Kind.XOR32: r[op.dst] = (r[op.dst] ^ (op.x ? r[op.src] : op.imm)) & M32; break;
          case Kind.LSH32: r[op.dst] = BigInt.asUintN(32, r[op.dst] << ((op.x ? r[op.src] : op.imm) & 31n)); break;
          case Kind.RSH32: r[op.dst] = (r[op.dst] & M32) >> ((op.x ? r[op.src] : op.imm) & 31n); break;
          case Kind.ARSH32: r[op.dst] = BigInt.asUintN(32, BigInt.asIntN(32, r[op.dst]) >> ((op.x ? r[op.src] : op.imm) & 31n)); break;
          case Kind.MOV32: r[op.dst] = op.x ? r[op.src] & M32 : op.imm; break;
          case Kind.MOVSX32: r[op.dst] = BigInt.asUintN(32, BigInt.asIntN(op.size * 8, r[op.src])); break;
          case Kind.NEG32: r[op.dst] = BigInt.asUintN(32, -r[op.dst]); break;

          // ---- byte order
          case Kind.TRUNC16: r[op.dst] &= 0xffffn; break;
          case Kind.TRUNC32: r[op.dst] &= M32; break;
          case Kind.SWAP16: r[op.dst] = BigInt(swap16(Number(r[op.dst] & 0xffffn))); break;
          case Kind.SWAP32: r[op.dst] = BigInt(swap32(Number(r[op.dst] & M32))); break;
          case Kind.SWAP64: r[op.dst] = swap64(r[op.dst]); break;
          case Kind.NOP: break;

          // ---- loads and stores
          case Kind.LD_IMM64: r[op.dst] = op.imm; break;
          case Kind.LD_PSEUDO: r[op.dst] = this.resolvePseudo(op, frame.program); break;
          case Kind.LDX: r[op.dst] = mem.load(BigInt.asUintN(64, r[op.src] + op.off), op.size); break;
          case Kind.LDXS: {
            const v = mem.load(BigInt.asUintN(64, r[op.src] + op.off), op.size);
            r[op.dst] = BigInt.asUintN(64, BigInt.asIntN(op.size * 8, v));
            break;
          }
          case Kind.ST: mem.store(BigInt.asUintN(64, r[op.dst] + op.off), op.size, op.imm); break;
          case Kind.STX: mem.store(BigInt.asUintN(64, r[op.dst] + op.off), op.size, r[op.src]); break;
          case Kind.ATOMIC: atomic(op, r, mem); break;

          // ---- jumps
          case Kind.JA: pc = op.target; continue;
          case Kind.JEQ64: if (r[op.dst] === (op.x ? r[op.src] : op.imm)) { pc = op.target; continue; } break;
          case Kind.JNE64: if (r[op.dst] !== (op.x ? r[op.src] : op.imm)) { pc = op.target; continue; } break;
          case Kind.JGT64: if (r[op.dst] > (op.x ? r[op.src] : op.imm)) { pc = op.target; continue; } break;
          case Kind.JGE64: if (r[op.dst] >= (op.x ? r[op.src] : op.imm)) { pc = op.target; continue; } break;
          case Kind.JLT64: if (r[op.dst] < (op.x ? r[op.src] : op.imm)) { pc = op.target; continue; } break;
          case Kind.JLE64: if (r[op.dst] <= (op.x ? r[op.src] : op.imm)) { pc = op.target; continue; } break;
          case Kind.JSET64: if ((r[op.dst] & (op.x ? r[op.src] : op.imm)) !== 0n) { pc = op.target; continue; } break;
          case Kind.JSGT64: if (BigInt.asIntN(64, r[op.dst]) > (op.x ? BigInt.asIntN(64, r[op.src]) : op.simm)) { pc = op.target; continue; } break;
          case Kind.JSGE64: if (BigInt.asIntN(64, r[op.dst]) >= (op.x ? BigInt.asIntN(64, r[op.src]) : op.simm)) { pc = op.target; continue; } break;
          case Kind.JSLT64: if (BigInt.asIntN(64, r[op.dst]) < (op.x ? BigInt.asIntN(64, r[op.src]) : op.simm)) { pc = op.target; continue; } break;
          case Kind.JSLE64: if (BigInt.asIntN(64, r[op.dst]) <= (op.x ? BigInt.asIntN(64, r[op.src]) : op.simm)) { pc = op.target; continue; } break;
          case Kind.JEQ32: if ((r[op.dst] & M32) === (op.x ? r[op.src] & M32 : op.imm)) { pc = op.target; continue; } break;
          case Kind.JNE32: if ((r[op.dst] & M32) !== (op.x ? r[op.src] & M32 : op.imm)) { pc = op.target; continue; } break;
          case Kind.JGT32: if ((r[op.dst] & M32) > (op.x ? r[op.src] & M32 : op.imm)) { pc = op.target; continue; } break;
          case Kind.JGE32: if ((r[op.dst] & M32) >= (op.x ? r[op.src] & M32 : op.imm)) { pc = op.target; continue; } break;
          case Kind.JLT32: if ((r[op.dst] & M32) < (op.x ? r[op.src] & M32 : op.imm)) { pc = op.target; continue; } break;
          case Kind.JLE32: if ((r[op.dst] & M32) <= (op.x ? r[op.src] & M32 : op.imm)) { pc = op.target; continue; } break;
          case Kind.JSET32: if ((r[op.dst] & (op.x ? r[op.src] : op.imm) & M32) !== 0n) { pc = op.target; continue; } break;
          case Kind.JSGT32: if (BigInt.asIntN(32, r[op.dst]) > (op.x ? BigInt.asIntN(32, r[op.src]) : op.simm)) { pc = op.target; continue; } break;
          case Kind.JSGE32: if (BigInt.asIntN(32, r[op.dst]) >= (op.x ? BigInt.asIntN(32, r[op.src]) : op.simm)) { pc = op.target; continue; } break;
          case Kind.JSLT32: if (BigInt.asIntN(32, r[op.dst]) < (op.x ? BigInt.asIntN(32, r[op.src]) : op.simm)) { pc = op.target; continue; } break;
          case Kind.JSLE32: if (BigInt.asIntN(32, r[op.dst]) <= (op.x ? BigInt.asIntN(32, r[op.src]) : op.simm)) { pc = op.target; continue; } break;

          // ---- calls
          case Kind.CALL:
          case Kind.CALLX: {
            const id = op.kind === Kind.CALL ? op.n : helperIdIn(r[op.dst]);
            if (id === BPF_FUNC_tail_call) {
              const target = this.tailCall(frame, r[2], r[3]);
              if (target) { code = target.code; pc = 0; continue; }
              break;
            }
            r[0] = this.callHelper(id, op, frame.program);
            if (this.call.stopped !== null) return this.call.stopped;
            break;
          }
          case Kind.TAIL_CALL: {
            const target = this.tailCall(frame, r[2], r[3]);
            if (target) { code = target.code; pc = 0; continue; }
            break;
          }
          case Kind.CALL_LOCAL: {
            if (frame.progDepth >= MAX_CALL_FRAMES) {
              throw new InterpError('interp.call-depth',
                `the call stack of ${frame.progDepth + 1} frames is too deep (program '${frame.program.name}', MAX_CALL_FRAMES = ${MAX_CALL_FRAMES})`);
            }
            mem.enterFrame(depth + 1);
            const callee = this.frameAt(depth + 1);
            callee.program = frame.program;
            callee.code = code;
            callee.retPc = pc + 1;
            callee.s6 = r[6]; callee.s7 = r[7]; callee.s8 = r[8]; callee.s9 = r[9];
            callee.tailCount = frame.tailCount;
            callee.progDepth = frame.progDepth + 1;
            callee.chain = frame.chain;
            depth++;
            frame = callee;
            r[10] = mem.stackTop(depth);
            this.stats.localCalls++;
            if (depth + 1 > this.stats.maxCallDepth) this.stats.maxCallDepth = depth + 1;
            pc = op.target;
            continue;
          }
          case Kind.EXIT: {
            if (depth === 0) return r[0];
            r[6] = frame.s6; r[7] = frame.s7; r[8] = frame.s8; r[9] = frame.s9;
            pc = frame.retPc;
            mem.leaveFrame(depth);
            depth--;
            frame = this.frames[depth];
            code = frame.code;
            r[10] = mem.stackTop(depth);
            continue;
          }

          // ---- refused
          case Kind.BAD: throw new InterpError('interp.bad-insn', `invalid instruction: ${op.reason}`);
          case Kind.UNSUPPORTED: throw new InterpError('interp.unsupported', op.reason);
          case Kind.FALL_OFF: throw new InterpError('interp.fall-off', `${op.reason} (no exit at the end of program '${frame.program.name}')`);
          default: {
            const never: never = op.kind;
            throw new InterpError('interp.bad-insn', `unknown op kind ${String(never)}`);
          }
        }
        pc++;
      }
    } catch (e) {
      this.stats.insns = n;
      throw this.place(e, code[pc], frame.program);
    } finally {
      this.stats.insns = n;
    }
  }

  /** Called every CHECK_EVERY instructions and at the budget: throws when a budget is spent. */
  private checkpoint(executed: number): number {
    if (executed >= this.insnBudget) {
      this.stats.insns = executed;
      throw new InterpError('interp.budget',
        `instruction budget of ${this.insnBudget} exhausted after ${executed} instructions and ${this.stats.tailCalls.taken} tail calls`);
    }
    if (this.deadline !== Infinity && performance.now() > this.deadline) {
      throw new InterpError('interp.budget',
        `wall-time budget of ${this.options.budget?.wallMs} ms exhausted after ${executed} instructions and ${this.stats.tailCalls.taken} tail calls`);
    }
    return Math.min(this.insnBudget, executed + CHECK_EVERY);
  }

  /**
   * bpf_tail_call(ctx, prog_array, index), in the kernel's order: the bounds check comes first
   * and never counts; then the limit; then, on a profile where empty slots count (5.10), the
   * count goes up before the slot is looked at, else only when the call is taken. The counter is
   * the frame's own (by value, copied at each bpf2bpf call) or one for the whole run (shared).
   * A refused tail call falls through to the next instruction; r0 is left unchanged (the
   * verifier treats r0 as unreadable after bpf_tail_call, so no program can depend on it).
   * Returns the program to enter, or null.
   */
  private tailCall(frame: Frame, r2: bigint, r3: bigint): InterpProgram | null {
    const array = this.progArray(r2);
    const refused = this.stats.tailCalls.refused;
    const index = Number(r3 & M32); // the kernel compares the index as u32
    if (index >= array.maxEntries) {
      refused.outOfBounds++;
      return null;
    }
    const tc = this.profile.tailCall;
    const shared = tc.counter === 'shared';
    let count = shared ? this.sharedTailCount : frame.tailCount;
    if (count >= tc.limit) {
      refused.limit++;
      return null;
    }
    if (tc.emptySlotCounts) count++;
    const target = array.slots[index] ?? null;
    if (target && !tc.emptySlotCounts) count++;
    if (shared) this.sharedTailCount = count;
    else frame.tailCount = count;
    if (!target) {
      refused.emptySlot++;
      return null;
    }
    this.stats.tailCalls.taken++;
    frame.program = target;
    frame.code = target.code;
    frame.progDepth = 1;
    frame.chain++;
    if (frame.chain > this.stats.maxChainLength) this.stats.maxChainLength = frame.chain;
    return target;
  }

  private progArray(r2: bigint): ProgArray {
    const array = this.env.progArrayAt?.(r2);
    if (!array) {
      throw new InterpError('interp.tail-call', `bpf_tail_call: r2 = ${hex(r2)} is not a prog array of the environment`);
    }
    return array;
  }

  private callHelper(id: number, op: Op, program: InterpProgram): bigint {
    const h = this.helpers.get(id);
    if (!h) throw new InterpError('interp.helper', `call to unknown helper ${id}`);
    const r = this.regs;
    this.call.program = program;
    this.call.slot = op.slot;
    this.stats.helperCalls++;
    let v: unknown;
    try {
      v = h.fn(this.call, r[1], r[2], r[3], r[4], r[5]);
    } catch (e) {
      throw helperFailure(e, h);
    }
    if (typeof v !== 'bigint') {
      throw new InterpError('interp.helper', `helper ${id} (${h.name}) returned ${typeof v}, not a bigint`);
    }
    return BigInt.asUintN(64, v);
  }

  private resolvePseudo(op: Op, program: InterpProgram): bigint {
    const v = this.env.resolveLdImm64?.(op.insn!, { program, slot: op.slot });
    if (v === undefined) {
      const name = Object.entries(PseudoSrc).find(([, s]) => s === op.n)?.[0] ?? String(op.n);
      throw new InterpError('interp.pseudo',
        `ld_imm64 with src ${op.n} (BPF_PSEUDO_${name}, imm ${op.insn!.imm}) is not resolved by the environment`);
    }
    return BigInt.asUintN(64, v);
  }

  /** Gives an error raised during the run its instruction, program and the counts reached. */
  private place(e: unknown, op: Op, program: InterpProgram): unknown {
    if (!(e instanceof InterpError)) return e;
    const note = program === this.program ? undefined : `in program '${program.name}' (entered by tail call)`;
    const slot = e.location.insn ?? op.slot;
    return e.placed(slot, { program: program.name, stats: copyStats(this.stats) }, note);
  }
}

function checkBudget(field: keyof Budget, v: number | undefined): number | undefined {
  if (v !== undefined && !(v >= 0)) {
    throw new InterpError('interp.options', `budget.${field} must be a number >= 0, not ${v}`);
  }
  return v;
}

/** Runs `program` once. */
export function runProgram(program: InterpProgram | readonly Insn[], options: InterpOptions = {}): RunResult {
  return new Interpreter(program, options).run();
}

function atomic(op: Op, r: BigUint64Array, mem: Memory): void {
  const addr = BigInt.asUintN(64, r[op.dst] + op.off);
  const mask = op.size === 4 ? M32 : M64;
  const old = mem.loadForUpdate(addr, op.size); // zero-extended for 32-bit
  const s = r[op.src];
  switch (op.n) {
    case AtomicOp.ADD: mem.commit(op.size, (old + s) & mask); return;
    case AtomicOp.OR: mem.commit(op.size, old | (s & mask)); return;
    case AtomicOp.AND: mem.commit(op.size, old & s); return;
    case AtomicOp.XOR: mem.commit(op.size, old ^ (s & mask)); return;
    case AtomicOp.ADD | AtomicOp.FETCH: mem.commit(op.size, (old + s) & mask); r[op.src] = old; return;
    case AtomicOp.OR | AtomicOp.FETCH: mem.commit(op.size, old | (s & mask)); r[op.src] = old; return;
    case AtomicOp.AND | AtomicOp.FETCH: mem.commit(op.size, old & s); r[op.src] = old; return;
    case AtomicOp.XOR | AtomicOp.FETCH: mem.commit(op.size, old ^ (s & mask)); r[op.src] = old; return;
    case AtomicOp.XCHG: mem.commit(op.size, s & mask); r[op.src] = old; return;
    case AtomicOp.CMPXCHG: // compares with r0's low half for 32 bits; r0 gets the old value either way
      if (old === (r[0] & mask)) mem.commit(op.size, s & mask);
      r[0] = old;
      return;
    default:
      throw new InterpError('interp.bad-insn', `invalid atomic operation ${hex(BigInt(op.n >>> 0))}`);
  }
}

/** callx: the helper id in a register; anything beyond 32 bits is no helper. */
const helperIdIn = (v: bigint): number => (v <= M32 ? Number(v) : -1);

function helperFailure(e: unknown, h: HelperEntry): unknown {
  const note = `in helper ${h.id} (${h.name})`;
  if (e instanceof InterpError) return new InterpError(e.code, e.message, e.location, e.details, [...e.notes, note]);
  if (e instanceof TailjitError) return new InterpError(e.code, `in helper ${h.id} (${h.name}): ${e.message}`, {}, {}, e.notes);
  const text = e instanceof Error ? e.message : String(e);
  return new InterpError('interp.helper', `helper ${h.id} (${h.name}) failed: ${text}`);
}

const swap16 = (v: number): number => ((v & 0xff) << 8) | (v >>> 8);
const swap32 = (v: number): number =>
  (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
const swap64 = (v: bigint): bigint =>
  (BigInt(swap32(Number(v & M32))) << 32n) | BigInt(swap32(Number(v >> 32n)));
