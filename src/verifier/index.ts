// verify(): the Linux 5.10 verifier as far as the JIT's input depends on it. The passes run
// in bpf_check()'s order, so that when a program breaks several rules the kernel's first
// message is the one reported:
//
//   replace_map_fd_with_map_ptr  -> checkRawInsns      (opcodes, reserved fields, maps)
//   check_subprogs               -> checkSubprogs      (functions, jump ranges, last insn)
//   check_btf_info               -> checkBtfInfo       (func_info against the layout)
//   check_cfg                    -> checkCfg           (back-edges, unreachable code)
//   do_check_subprogs/_main      -> analyze            (paths, stack depth, keys, ctx)
//   check_max_stack_depth        -> checkMaxStackDepth (limits, tail_call_reachable)
//   opt_* dead code passes       -> deadcode.ts        (privileged loader)
//   convert_ctx_accesses         -> convertCtxAccesses
//   fixup_bpf_calls              -> fixupBpfCalls      (then the map addresses)
//
// No zero-extension pass runs: bpf_jit_needs_zext() is false on x86-64 (x86-jit.md §3.6), and
// BPF_ST | BPF_NOSPEC is only inserted for unprivileged loaders (x86-jit.md §4.6).

import type { ObjectFile, ProgramSpec } from '../elf/types.js';
import { CallSrc, Class, JmpOp, LD_IMM64 } from '../isa/index.js';
import { Env, type VerifyOptions } from './env.js';
import { checkRawInsns } from './opcodes.js';
import { checkBtfInfo, checkSubprogs } from './subprogs.js';
import { checkCfg } from './cfg.js';
import { analyze } from './analyze.js';
import { checkMaxStackDepth } from './stack.js';
import { hardWireDeadCodeBranches, removeDeadCode, removeNops } from './deadcode.js';
import { convertCtxAccesses } from './ctx.js';
import { fixupBpfCalls, resolveMapAddresses } from './fixup.js';
import { fromSlots, toSlots, TAIL_CALL_CODE } from './kinsn.js';
import { rememberMapRefs, type MapRef } from './dump.js';
import { notModeled } from './errors.js';
import type { PokeDescriptor, VerifiedFunc, VerifiedProgram } from './types.js';

export type { VerifyOptions } from './env.js';
export { VerifierError, type VerifierErrorCode } from './errors.js';
export { xlatedForDump, mapRefOf } from './dump.js';
export { findLinfo } from './linfo.js';
export { KernelSymbol } from './fixup.js';
export type { KernelLayout, VerifiedProgram, VerifiedFunc, PokeDescriptor } from './types.js';

export function verify(program: ProgramSpec, object: ObjectFile, options: VerifyOptions): VerifiedProgram {
  if (options.privileged === false) {
    throw notModeled('unprivileged loads (Spectre masking, sanitize_dead_code, BPF_ST_NOSPEC, no bpf2bpf calls)');
  }
  const env = new Env(program, object, options, toSlots(program.insns));
  checkRawInsns(env);
  checkSubprogs(env);
  checkBtfInfo(env);
  checkCfg(env);
  analyze(env);
  checkMaxStackDepth(env);
  hardWireDeadCodeBranches(env);
  removeDeadCode(env);
  removeNops(env);
  convertCtxAccesses(env);
  fixupBpfCalls(env);
  if (!env.jitRequested && env.subprogs.length > 1) {
    env.notChecked.push('bpf2bpf calls stay pseudo calls; the interpreter form (BPF_CALL_ARGS, bpf_patch_call_args) is not produced');
  }
  if (options.profile.name === 'linux-6.1') {
    // The profile carries 6.1.192's struct layout and stack-depth steps; the rest is 5.10's,
    // which 6.1.192 matched on programs/, programs/selftests/ and test/verifier/fixtures.
    env.notChecked.push('checks and rewrites are those of Linux 5.10 with 6.1.192\'s structure offsets and stack depths; 6.1\'s own additions (atomics, kfuncs, bpf_loop, ...) are not modeled');
  } else if (options.profile.name !== 'linux-5.10') {
    env.notChecked.push(`checks and rewrites are those of Linux 5.10; ${options.profile.name} has its own`);
  }
  const mapRefs = collectMapRefs(env);
  resolveMapAddresses(env);
  return build(env, mapRefs);
}

/** ld_imm64 map references by the index of the instruction in the final `Insn[]`. */
function collectMapRefs(env: Env): Map<number, MapRef> {
  const refs = new Map<number, MapRef>();
  let n = 0;
  for (let s = 0; s < env.len; s++, n++) {
    const m = env.aux[s].ldMap;
    if (m && env.slots[s].code === LD_IMM64) refs.set(n, m);
    if (env.slots[s].code === LD_IMM64) s++;
  }
  return refs;
}

function build(env: Env, mapRefs: Map<number, MapRef>): VerifiedProgram {
  const funcs: VerifiedFunc[] = env.subprogs.map((sp, i) => {
    const end = env.subprogEnd(i);
    let hasTailCall = false;
    for (let s = sp.start; s < end; s++) if (env.slots[s].code === TAIL_CALL_CODE) hasTailCall = true;
    return Object.freeze({ start: sp.start, end, name: sp.name, stackDepth: sp.stackDepth, hasTailCall, tailCallReachable: sp.tailCallReachable });
  });
  const pokes: PokeDescriptor[] = env.pokes.map((p) => Object.freeze({ insnIdx: p.insnIdx, mapIndex: p.mapIndex, key: p.key, func: env.subprogOf(p.insnIdx) }));
  const vp: VerifiedProgram = Object.freeze({
    name: env.program.name,
    type: env.program.type,
    insns: Object.freeze(fromSlots(env.slots)),
    funcs: Object.freeze(funcs),
    pokes: Object.freeze(pokes),
    usedMaps: Object.freeze([...env.usedMaps]),
    lineInfo: Object.freeze([...env.lineInfo]),
    notChecked: Object.freeze([...new Set(env.notChecked)]),
    backend: env.options.backend,
  });
  rememberMapRefs(vp, mapRefs);
  return vp;
}

/** Number of 8-byte slots of a verified program (`xlated_insn_count`). */
export function slotCount(vp: VerifiedProgram): number {
  return vp.insns.reduce((n, i) => n + (i.code === LD_IMM64 ? 2 : 1), 0);
}

/** True for the call instructions of bpf2bpf calls (for consumers scanning `insns`). */
export const isLocalCall = (code: number, src: number): boolean => code === (Class.JMP | JmpOp.CALL) && src === CallSrc.LOCAL;
