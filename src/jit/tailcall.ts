// `bpf_tail_call` in its indirect form (prog array read at run time) and its direct form (two
// text-poked sites), tailcalls.md §4-§5. The kernel counts the bail-out distances by hand
// (5.10.0) or measures them in the previous pass (5.10.133+); here each sequence is emitted into
// scratch first, the distances are measured, and they are checked against the profile's
// constants before the real emission.

import type { JitProfile } from '../profile/index.js';
import { emitJump } from './call.js';
import { roundedStack, tailCallCntOff, tailCallCntPtrOff, type Frame, type JitEnv } from './context.js';
import { JitBug } from './errors.js';
import { popBytes, popCalleeRegs, requireSymbol } from './prologue.js';
import { Emitter, X86_JA, X86_JAE, X86_JBE, X86_JE, X86_PATCH_SIZE } from './x86.js';

/** Bytes of the slot pops: `pop rax` (the counter slot), or two under tcc-ptr (pointer, then count or pointer). */
const slotPops = (env: JitEnv): number => (env.jit.tailCallCounter === 'slot' ? 1 : 2);

/** Pops the callee-saved registers and the counter slot(s), and drops the BPF stack. */
function emitUnwind(e: Emitter, env: JitEnv, frame: Frame): void {
  popCalleeRegs(e, frame.calleeRegsUsed);
  for (let k = 0; k < slotPops(env); k++) e.u8(0x58);
  if (frame.stackDepth !== 0) e.u8(0x48, 0x81, 0xc4).u32(roundedStack(frame));
}

/**
 * The counter check under tcc-ptr (tailcalls.md §9.2), leaving the pointer in rax:
 *   mov rax, [rbp - SDr - 16]            ; 48 8b 85 d32
 *   cmp qword [rax], MAX_TAIL_CALL_CNT   ; 48 83 38 ib
 *   jae out                              ; 73 cb
 */
function emitCntPtrCheck(e: Emitter, env: JitEnv, frame: Frame, rel8: number): void {
  e.u8(0x48, 0x8b, 0x85).u32(tailCallCntPtrOff(frame));
  e.u8(0x48, 0x83, 0x38, env.jit.maxTailCallCnt);
  e.u8(X86_JAE, rel8);
}

/** add qword [rax], 1 ; 48 83 00 01 -- under tcc-ptr, counted once the tail call is sure to be taken. */
const emitCntPtrInc = (e: Emitter): void => void e.u8(0x48, 0x83, 0x00, 0x01);

/** The rel8 jcc of the counter check. */
const cntJcc = (jit: JitProfile): number => (jit.tailCallCntJcc === 'ja' ? X86_JA : X86_JAE);

/**
 * `emit_indirect_jump(rcx)`, at absolute address `ip`:
 *   jmp __x86_indirect_thunk_rcx     ; e9 cd (X86_FEATURE_RETPOLINE)
 *   lfence; jmp rcx                  ; 0f ae e8 ff e1 (RETPOLINE_LFENCE)
 *   jmp rcx                          ; ff e1
 *   jmp rcx; int3                    ; ff e1 cc (jit.plainJumpInt3: 6.1 with CONFIG_RETPOLINE or CONFIG_SLS)
 *   call +7; pause; lfence; jmp -7; mov [rsp], rcx; ret   ; RETPOLINE_RCX_BPF_JIT (5.10.0-5.10.132)
 */
export function emitIndirectJumpRcx(e: Emitter, env: JitEnv, ip: bigint): void {
  switch (env.cpu.indirectJump) {
    case 'thunk':
      emitJump(e, requireSymbol(env.symbols.indirectThunkRcx, 'indirectThunkRcx'), ip);
      return;
    case 'lfence':
      e.u8(0x0f, 0xae, 0xe8, 0xff, 0xe1);
      return;
    case 'plain':
      e.u8(0xff, 0xe1);
      if (env.jit.plainJumpInt3) e.u8(0xcc);
      return;
    case 'inline-retpoline':
      e.u8(0xe8).u32(7);
      e.u8(0xf3, 0x90);
      e.u8(0x0f, 0xae, 0xe8);
      e.u8(0xeb, 0xf9);
      e.u8(0x48, 0x89, 0x0c, 0x24);
      e.u8(0xc3);
  }
}

/** J: length of the final jump of an indirect tail call. */
export function indirectJumpLength(env: JitEnv): number {
  const probe = new Emitter(32);
  emitIndirectJumpRcx(probe, env, 0n);
  return probe.length;
}

/** Offsets (from the sequence start) of the ends of its bail-out jcc's, and of `out`. */
interface IndirectLabels {
  readonly bounds: number;
  readonly count: number;
  readonly empty: number;
  readonly out: number;
}

interface IndirectDistances {
  readonly bounds: number;
  readonly count: number;
  readonly empty: number;
}

/**
 * `emit_bpf_tail_call_indirect` with the distances given (rdi = ctx, rsi = array, edx = index):
 *   mov edx, edx                         ; 89 d2
 *   cmp [rsi + max_entries], edx         ; 39 56 ib
 *   jbe out                              ; 76 cb
 *   mov eax, [rbp - SDr - 4]             ; 8b 85 d32
 *   cmp eax, MAX_TAIL_CALL_CNT           ; 83 f8 ib
 *   ja out                               ; 77 cb (jae on later kernels)
 *   add eax, 1                           ; 83 c0 01
 *   mov [rbp - SDr - 4], eax             ; 89 85 d32 (counted before the slot is read)
 *   mov rcx, [rsi + rdx*8 + ptrs]        ; 48 8b 8c d6 id
 *   test rcx, rcx                        ; 48 85 c9
 *   je out                               ; 74 cb
 *   pops; pop rax                        ; ..., 58
 *   add rsp, SDr                         ; 48 81 c4 id, if the stack is not empty
 *   mov rcx, [rcx + bpf_func]            ; 48 8b 49 ib
 *   add rcx, X86_TAIL_CALL_OFFSET        ; 48 83 c1 ib
 *   jmp rcx                              ; emitIndirectJumpRcx
 * out:
 * Under `jit.tailCallCounter: 'tcc-ptr'` the count part is `emitCntPtrCheck`, and the increment
 * (`emitCntPtrInc`) moves after the NULL check, and two slots are popped (tailcalls.md §9.2).
 */
function indirectSequence(e: Emitter, env: JitEnv, frame: Frame, ip: bigint, d: IndirectDistances): IndirectLabels {
  const { jit } = env;
  const start = e.length;
  const at = (): number => e.length - start;
  const tccOff = tailCallCntOff(frame);
  e.u8(0x89, 0xd2);
  e.u8(0x39, 0x56, jit.offsets.mapMaxEntries);
  e.u8(X86_JBE, d.bounds);
  const bounds = at();
  const ptr = jit.tailCallCounter === 'tcc-ptr';
  if (ptr) {
    emitCntPtrCheck(e, env, frame, d.count);
  } else {
    e.u8(0x8b, 0x85).u32(tccOff);
    e.u8(0x83, 0xf8, jit.maxTailCallCnt);
    e.u8(cntJcc(jit), d.count);
  }
  const count = at();
  if (!ptr) {
    e.u8(0x83, 0xc0, 0x01);
    e.u8(0x89, 0x85).u32(tccOff);
  }
  e.u8(0x48, 0x8b, 0x8c, 0xd6).u32(jit.offsets.arrayPtrs);
  e.u8(0x48, 0x85, 0xc9);
  e.u8(X86_JE, d.empty);
  const empty = at();
  if (ptr) emitCntPtrInc(e);
  emitUnwind(e, env, frame);
  e.u8(0x48, 0x8b, 0x49, jit.offsets.progBpfFunc);
  e.u8(0x48, 0x83, 0xc1, jit.tailCallOffset);
  emitIndirectJumpRcx(e, env, ip + BigInt(at()));
  return { bounds, count, empty, out: at() };
}

/** `emit_bpf_tail_call_indirect`, at absolute address `ip` (`image + addrs[i - 1]`). */
export function emitBpfTailCallIndirect(e: Emitter, env: JitEnv, frame: Frame, ip: bigint): void {
  const labels = indirectSequence(new Emitter(), env, frame, ip, { bounds: 0, count: 0, empty: 0 });
  const d = { bounds: labels.out - labels.bounds, count: labels.out - labels.count, empty: labels.out - labels.empty };
  const k = env.jit.tailCallBailout;
  const extra = popBytes(frame.calleeRegsUsed) + (frame.stackDepth !== 0 ? 7 : 0) + indirectJumpLength(env);
  checkBailout('indirect bounds', d.bounds, k.indirectBounds + extra);
  checkBailout('indirect count', d.count, k.indirectCount + extra);
  checkBailout('indirect empty-slot', d.empty, k.indirectEmpty + extra);
  indirectSequence(e, env, frame, ip, d);
}

/** The descriptor fields `emit_bpf_tail_call_direct` writes (tailcalls.md §5.2). */
export interface DirectPokeSites {
  readonly tailcallBypass: bigint;
  readonly tailcallTarget: bigint;
  readonly bypassAddr: bigint;
  readonly adjOff: number;
}

/** Offsets from the sequence start: end of the counter jcc, site 1, site 2 and `out`. */
interface DirectLabels {
  readonly count: number;
  readonly bypass: number;
  readonly target: number;
  readonly out: number;
}

/**
 * `emit_bpf_tail_call_direct`, emitted in state C (slot empty; the fix-up may switch to B).
 * `out` is the measured offset of the `out:` label (0 while measuring):
 *   mov eax, [rbp - SDr - 4]             ; 8b 85 d32
 *   cmp eax, MAX_TAIL_CALL_CNT           ; 83 f8 ib
 *   ja out                               ; 77 cb
 *   add eax, 1                           ; 83 c0 01
 *   mov [rbp - SDr - 4], eax             ; 89 85 d32 (counted even if the slot is empty)
 *   jmp out                              ; e9 cd  <- site 1, tailcall_bypass
 *   pops; pop rax                        ; ..., 58
 *   add rsp, SDr                         ; 48 81 c4 id, if the stack is not empty
 *   nop5                                 ;        <- site 2, tailcall_target
 * out:
 * Under `jit.tailCallCounter: 'tcc-ptr'` (tailcalls.md §9.2): `emitCntPtrCheck`, site 1, then the
 * increment (`emitCntPtrInc`, reached only when site 1 is a nop: a populated slot), two slot pops.
 */
function directSequence(e: Emitter, env: JitEnv, frame: Frame, ip: bigint, out: number): DirectLabels {
  const { jit } = env;
  const start = e.length;
  const at = (): number => e.length - start;
  const tccOff = tailCallCntOff(frame);
  const ptr = jit.tailCallCounter === 'tcc-ptr';
  if (ptr) {
    emitCntPtrCheck(e, env, frame, out - (at() + 7 + 4 + 2));
  } else {
    e.u8(0x8b, 0x85).u32(tccOff);
    e.u8(0x83, 0xf8, jit.maxTailCallCnt);
    e.u8(cntJcc(jit), out - (at() + 2));
  }
  const count = at();
  if (!ptr) {
    e.u8(0x83, 0xc0, 0x01);
    e.u8(0x89, 0x85).u32(tccOff);
  }
  const bypass = at();
  emitJump(e, ip + BigInt(out), ip + BigInt(bypass));
  if (ptr) emitCntPtrInc(e);
  emitUnwind(e, env, frame);
  const target = at();
  e.raw(env.cpu.nop5);
  return { count, bypass, target, out: at() };
}

/** `emit_bpf_tail_call_direct`, at absolute address `ip`; returns the descriptor's sites. */
export function emitBpfTailCallDirect(e: Emitter, env: JitEnv, frame: Frame, ip: bigint): DirectPokeSites {
  const probe = directSequence(new Emitter(), env, frame, ip, 0);
  const extra = popBytes(frame.calleeRegsUsed) + (frame.stackDepth !== 0 ? 7 : 0);
  checkBailout('direct count', probe.out - probe.count, env.jit.tailCallBailout.directCount + extra);
  const l = directSequence(e, env, frame, ip, probe.out);
  return {
    tailcallBypass: ip + BigInt(l.bypass),
    tailcallTarget: ip + BigInt(l.target),
    bypassAddr: ip + BigInt(l.target + X86_PATCH_SIZE),
    adjOff: env.jit.tailCallOffset,
  };
}

function checkBailout(what: string, measured: number, expected: number): void {
  if (measured !== expected) {
    throw new JitBug('jit.bug.bailout', `${what} bail-out distance measured ${measured}, the profile's constant gives ${expected}`);
  }
}
