// check_subprogs() and check_btf_info() of 5.10: subprogram boundaries (the targets of pseudo
// calls, plus 0), jumps confined to their function, no fall-through from one function into
// the next, and the func_info records matching the layout.

import { CallSrc, Class, JmpOp, Mode, BPF_FUNC_tail_call, classOf, modeOf, opOf } from '../isa/index.js';
import { Btf, FuncLinkage } from '../elf/btf.js';
import type { Env } from './env.js';
import { jumpOff } from './kinsn.js';


const CALL = Class.JMP | JmpOp.CALL;
const EXIT = Class.JMP | JmpOp.EXIT;
const JA = Class.JMP | JmpOp.JA;

function addSubprog(env: Env, off: number): void {
  if (off >= env.len || off < 0) env.fail('verifier.call-destination', 'call to invalid destination');
  if (env.findSubprog(off) >= 0) return;
  if (env.subprogs.length >= env.options.profile.verifier.maxSubprogs) env.fail('verifier.too-many-subprogs', 'too many subprograms');
  env.subprogs.push({ start: off, stackDepth: 0, hasTailCall: false, hasLdAbs: false, tailCallReachable: false, name: '', global: false });
  env.subprogs.sort((a, b) => a.start - b.start);
}

export function checkSubprogs(env: Env): void {
  const slots = env.slots;
  addSubprog(env, 0);
  for (let i = 0; i < slots.length; i++) {
    if (slots[i].code !== CALL || slots[i].src !== CallSrc.LOCAL) continue;
    addSubprog(env, i + slots[i].imm + 1);
  }
  let cur = 0;
  let start = env.subprogs[0].start;
  let end = env.subprogEnd(0);
  for (let i = 0; i < slots.length; i++) {
    const code = slots[i].code;
    const cls = classOf(code);
    if (code === CALL && slots[i].imm === BPF_FUNC_tail_call && slots[i].src !== CallSrc.LOCAL) env.subprogs[cur].hasTailCall = true;
    if (cls === Class.LD && (modeOf(code) === Mode.ABS || modeOf(code) === Mode.IND)) env.subprogs[cur].hasLdAbs = true;
    const isJump = (cls === Class.JMP || cls === Class.JMP32) && opOf(code) !== JmpOp.EXIT && opOf(code) !== JmpOp.CALL;
    if (isJump) {
      const off = i + jumpOff(slots[i]) + 1;
      if (off < start || off >= end) env.fail('verifier.jump-out-of-range', `jump out of range from insn ${i} to ${off}`, i);
    }
    if (i === end - 1) {
      if (code !== EXIT && code !== JA) env.fail('verifier.last-insn', 'last insn is not an exit or jmp', i);
      start = end;
      cur++;
      if (cur < env.subprogs.length) end = env.subprogEnd(cur);
    }
  }
}

/** check_btf_info() / check_btf_func(): func_info against the layout; names and linkage. */
export function checkBtfInfo(env: Env): void {
  const funcs = env.program.funcs;
  const subprogs = env.subprogs;
  if (funcs.length === 0) {
    subprogs.forEach((s, i) => (s.name = `func#${i}`));
    if (env.program.lineInfo.length > 0) return;
    // check_abnormal_return(): without BTF a subprogram cannot tell its return type.
    for (let i = 1; i < subprogs.length; i++) {
      if (subprogs[i].hasLdAbs) env.fail('verifier.abnormal-return', 'LD_ABS is not allowed in subprogs without BTF');
      if (subprogs[i].hasTailCall) env.fail('verifier.abnormal-return', 'tail_call is not allowed in subprogs without BTF');
    }
    return;
  }
  if (funcs.length !== subprogs.length) env.fail('verifier.func-info', "number of funcs in func_info doesn't match number of subprogs");
  let prev = 0;
  funcs.forEach((f, i) => {
    // 5.10 prints these two without a newline; the text is the same.
    if (i === 0 && f.insnOff !== 0) env.fail('verifier.func-info', `nonzero insn_off ${f.insnOff} for the first func info record`);
    if (i > 0 && f.insnOff <= prev) {
      env.fail('verifier.func-info', `same or smaller insn offset (${f.insnOff}) than previous func info record (${prev})`);
    }
    if (subprogs[i].start !== f.insnOff) env.fail('verifier.func-info', "func_info BTF section doesn't match subprog layout in BPF program");
    prev = f.insnOff;
    subprogs[i].name = f.name;
    subprogs[i].global = i > 0 && isGlobal(env, f.typeId);
  });
  env.notChecked.push("func_info return types ('tail_call is only allowed in functions that return 'int'.')");
}

/** BTF_FUNC_GLOBAL linkage of a func_info record's type; without BTF every function is static. */
function isGlobal(env: Env, typeId: number): boolean {
  const btf = env.object.btf;
  if (!(btf instanceof Btf) || typeId === 0) return false;
  try {
    const t = btf.type(typeId);
    return t.kind === 'func' && t.linkage === FuncLinkage.GLOBAL;
  } catch {
    return false;
  }
}
