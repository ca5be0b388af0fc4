// CALL (helpers and bpf2bpf calls alike) and the rel32 patch forms shared with the return thunk
// and the tail calls (x86-jit.md §6.1-§6.2, tailcalls.md §3.1).

import { tailCallCntPtrOff, tailCallSlotOff, type Frame, type JitEnv } from './context.js';
import { JitError } from './errors.js';
import { Emitter, X86_PATCH_SIZE, isSimm32, relFrom } from './x86.js';

/**
 * `emit_patch`: a 5-byte `opcode rel32` at `ip` reaching `target`. The kernel computes it even
 * while no image exists (ip = the offset alone, tailcalls.md §3.4), so targets in the top 2 GiB
 * pass the range check in those passes too.
 *   call/jmp target        ; e8/e9 cd
 */
export function emitPatch(e: Emitter, target: bigint, ip: bigint, opcode: number): void {
  const offset = relFrom(target, ip, X86_PATCH_SIZE);
  if (!isSimm32(offset)) {
    throw new JitError('jit.call-target', `target 0x${BigInt.asUintN(64, target).toString(16)} is out of rel32 reach of 0x${BigInt.asUintN(64, ip).toString(16)} (the kernel's "Target call ... is out of range")`);
  }
  e.u8(opcode).u32(Number(offset));
}

/** `emit_call`: call target ; e8 cd */
export const emitCall = (e: Emitter, target: bigint, ip: bigint): void => emitPatch(e, target, ip, 0xe8);

/** `emit_jump`: jmp target ; e9 cd */
export const emitJump = (e: Emitter, target: bigint, ip: bigint): void => emitPatch(e, target, ip, 0xe9);

/**
 * do_jit's `BPF_JMP | BPF_CALL` case. `ip` is where this instruction's code starts
 * (`image + addrs[i - 1]`); a tail-call-reachable function first reloads its counter slot (or,
 * under `tcc-ptr`, the counter pointer) into rax so that the callee's `push rax` gets it; before
 * which calls is `jit.tailCallCntLoad` (6.18: bpf2bpf calls only, helpers do not need it).
 *   mov rax, [rbp - SDr - 8]   ; 48 8b 85 d32, only when R(f) ([rbp - SDr - 16] under tcc-ptr)
 *   call bpfCallBase + imm     ; e8 cd
 */
export function emitCallInsn(e: Emitter, env: JitEnv, frame: Frame, bpf2bpf: boolean, imm32: number, ip: bigint): void {
  if (imm32 === 0) throw new JitError('jit.call-target', 'CALL with imm 0 has no target', {}, { field: 'imm' });
  const target = env.symbols.bpfCallBase + BigInt(imm32 | 0);
  if (frame.tailCallReachable && (bpf2bpf || env.jit.tailCallCntLoad === 'every-call')) {
    const off = env.jit.tailCallCounter === 'slot' ? tailCallSlotOff(frame) : tailCallCntPtrOff(frame);
    e.u8(0x48, 0x8b, 0x85).u32(off);
    emitCall(e, target, ip + 7n);
  } else {
    emitCall(e, target, ip);
  }
}
