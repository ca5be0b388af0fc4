// Prologue, callee-saved pushes and pops, epilogue and the return (tailcalls.md §1-§2,
// x86-jit.md §6.3-§6.4).

import type { Insn } from '../isa/insn.js';
import { emitJump } from './call.js';
import { roundedStack, type CalleeRegs, type Frame, type JitEnv } from './context.js';
import { JitError } from './errors.js';
import { Emitter, BPF_REG_6, BPF_REG_7, BPF_REG_8, BPF_REG_9, X86_JA } from './x86.js';

/** `BPF_JMP | BPF_TAIL_CALL`, the verifier's rewrite of `call bpf_tail_call`. */
export const BPF_TAIL_CALL = 0xf5;

/**
 * `detect_reg_usage`: a plain scan of the function's slots (the wide load's second half
 * included, which is all zero) for r6-r9 in either register field, and for a tail call.
 */
export function detectRegUsage(insns: readonly Insn[]): { regs: CalleeRegs; tailCallSeen: boolean } {
  const used = [false, false, false, false];
  let tailCallSeen = false;
  for (const i of insns) {
    if (i.code === BPF_TAIL_CALL) tailCallSeen = true;
    for (const r of [BPF_REG_6, BPF_REG_7, BPF_REG_8, BPF_REG_9]) {
      if (i.dst === r || i.src === r) used[r - BPF_REG_6] = true;
    }
  }
  return { regs: [used[0], used[1], used[2], used[3]], tailCallSeen };
}

/**
 * `emit_prologue`:
 *   nop5                   ; ideal_nops[NOP_ATOMIC5], the trampoline patch site
 *   xor eax, eax | nop2    ; 31 c0 for a tail-call-reachable main function, else 66 90 (profile.jit.prologueFill)
 *   push rbp               ; 55
 *   mov rbp, rsp           ; 48 89 e5 (a tail call lands here + 3, at X86_TAIL_CALL_OFFSET)
 *   sub rsp, SDr           ; 48 81 ec id, only if the stack is not empty (always imm32)
 *   push rax               ; 50, only if R(f): the tail-call counter slot
 * Programs converted from classic BPF have neither filler; VerifiedProgram has none of them.
 * Under `jit.tailCallCounter: 'tcc-ptr'` the `push rax` is `emitPrologueTailCall`'s.
 */
export function emitPrologue(e: Emitter, env: JitEnv, frame: Frame): void {
  e.raw(env.cpu.nop5);
  const fill = env.jit.prologueFill;
  e.raw(frame.tailCallReachable && !frame.isSubprog ? fill.reachableMain : fill.other);
  e.u8(0x55);
  e.u8(0x48, 0x89, 0xe5);
  if (frame.stackDepth !== 0) e.u8(0x48, 0x81, 0xec).u32(roundedStack(frame));
  if (!frame.tailCallReachable) return;
  if (env.jit.tailCallCounter === 'slot') e.u8(0x50);
  else emitPrologueTailCall(e, env, frame);
}

/**
 * `emit_prologue_tail_call` (tailcalls.md §9.2): the counter at [rbp-SDr-8], a pointer to the
 * run's one counter at [rbp-SDr-16]. A main function gets in rax either a count (0 at the run's
 * entry; a tail call from a main function pops the count last) or a pointer (a tail call from a
 * subprogram pops its pointer last), told apart by the size: a kernel address is above the limit.
 *   cmp rax, MAX_TAIL_CALL_CNT ; 48 83 f8 ib       (main function)
 *   ja 1f                      ; 77 06
 *   push rax                   ; 50                 a fresh counter
 *   mov rax, rsp               ; 48 89 e0           ... and a pointer to it
 *   jmp 2f                     ; eb 01
 * 1: push rax                  ; 50                 the caller's pointer in both slots
 * 2: push rax                  ; 50
 * A subprogram gets the pointer from its caller's pre-call load:
 *   push rax; push rax         ; 50 50
 */
function emitPrologueTailCall(e: Emitter, env: JitEnv, frame: Frame): void {
  if (!frame.isSubprog) {
    e.u8(0x48, 0x83, 0xf8, env.jit.maxTailCallCnt);
    e.u8(X86_JA, 6);
    e.u8(0x50);
    e.u8(0x48, 0x89, 0xe0);
    e.u8(0xeb, 1);
  }
  e.u8(0x50);
  e.u8(0x50);
}

/**
 * `push_callee_regs`: only the used ones, always in this order.
 *   push rbx; push r13; push r14; push r15   ; 53, 41 55, 41 56, 41 57
 */
export function pushCalleeRegs(e: Emitter, regs: CalleeRegs): void {
  if (regs[0]) e.u8(0x53);
  if (regs[1]) e.u8(0x41, 0x55);
  if (regs[2]) e.u8(0x41, 0x56);
  if (regs[3]) e.u8(0x41, 0x57);
}

/**
 * `pop_callee_regs`: the exact reverse.
 *   pop r15; pop r14; pop r13; pop rbx       ; 41 5f, 41 5e, 41 5d, 5b
 */
export function popCalleeRegs(e: Emitter, regs: CalleeRegs): void {
  if (regs[3]) e.u8(0x41, 0x5f);
  if (regs[2]) e.u8(0x41, 0x5e);
  if (regs[1]) e.u8(0x41, 0x5d);
  if (regs[0]) e.u8(0x5b);
}

/**
 * `emit_return`, at absolute address `ip`. (The kernel ignores a thunk out of rel32 reach and
 * emits nothing; here that is a JitError.)
 *   jmp x86_return_thunk   ; e9 cd (X86_FEATURE_RETHUNK)
 *   ret                    ; c3
 *   ret; int3              ; c3 cc (CONFIG_SLS)
 */
export function emitReturn(e: Emitter, env: JitEnv, ip: bigint): void {
  switch (env.cpu.ret) {
    case 'thunk':
      emitJump(e, requireSymbol(env.symbols.returnThunk, 'returnThunk'), ip);
      return;
    case 'ret':
      e.u8(0xc3);
      return;
    case 'ret-int3':
      e.u8(0xc3, 0xcc);
  }
}

/**
 * The first EXIT's epilogue:
 *   pops                   ; popCalleeRegs
 *   leave                  ; c9 (drops the counter slot(s) and the BPF stack)
 *   return                 ; emitReturn
 * `insnStart` is `image + addrs[i - 1]`; the return's address adds the bytes already in `e`,
 * which for instruction 0 include the prologue (the kernel's corner, x86-jit.md §6.4).
 */
export function emitEpilogue(e: Emitter, env: JitEnv, frame: Frame, insnStart: bigint): void {
  popCalleeRegs(e, frame.calleeRegsUsed);
  e.u8(0xc9);
  emitReturn(e, env, insnStart + BigInt(e.length));
}

/** P: bytes of the pops (1 for rbx, 2 for each of r13-r15). */
export const popBytes = (regs: CalleeRegs): number => (regs[0] ? 1 : 0) + 2 * ((regs[1] ? 1 : 0) + (regs[2] ? 1 : 0) + (regs[3] ? 1 : 0));

export function requireSymbol(value: bigint | undefined, name: string): bigint {
  if (value === undefined) throw new JitError('jit.missing-symbol', `the generated code needs kernel symbol '${name}', which was not supplied`);
  return value;
}
