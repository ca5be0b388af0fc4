// The unicorn binding, in the spirit of unicorn's samples/sample_x86.c and tests/unit/test_x86.c:
// open -> map -> write code -> set registers -> hook -> start -> inspect -> close, asserting exact
// uc_err codes. Machine code is hand-encoded; each encoding is cited from the Intel SDM opcode
// tables (REX.W = 0x48; ModRM = mod<<6 | reg<<3 | rm; rax=0, rcx=1, rdx=2, rbx=3, rsp=4).

import koffi from 'koffi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Unicorn, UnicornError, UcErr, UcHookType, UcMemType, UcProt, UcQueryType, X86Reg, type HookHandle,
} from '../../emu/unicorn/index.js';
import { TailjitError } from '../../src/errors.js';

const PAGE = 0x1000;
const CODE = 0x10000n;
/** Kernel module area (MODULES_VADDR on x86-64 is 0xffffffffa0000000; modules load above it). */
const KCODE = 0xffffffffc0000000n;
/** vmalloc area (VMALLOC_START 0xffffc90000000000), where kernel thread stacks live. */
const KSTACK = 0xffffc90000000000n;

// Encodings.
const MOV_RAX_0x1234 = [0x48, 0xc7, 0xc0, 0x34, 0x12, 0x00, 0x00]; // REX.W C7 /0 id: mov rax, imm32 (ModRM c0: rm=rax)
const ADD_RAX_RBX = [0x48, 0x01, 0xd8]; // REX.W 01 /r: add r/m64, r64 (ModRM d8: reg=rbx, rm=rax)
const MOV_RAX_MEM_RBX = [0x48, 0x8b, 0x03]; // REX.W 8B /r: mov rax, [rbx] (ModRM 03: mod 0, reg=rax, rm=rbx)
const MOV_MEM_RBX_RAX = [0x48, 0x89, 0x03]; // REX.W 89 /r: mov [rbx], rax
const PUSH_RAX = [0x50]; // 50+rd: push rax
const NOP = [0x90];
const JMP_SELF = [0xeb, 0xfe]; // EB cb: jmp rel8 = -2, i.e. jmp $
const INT3 = [0xcc];
const UD2 = [0x0f, 0x0b];
const STC = [0xf9]; // sets CF, bit 0 of RFLAGS
const RET = [0xc3];
const INC_RAX = [0x48, 0xff, 0xc0]; // REX.W FF /0: inc rax

/** E8 cd: call rel32, relative to the end of the 5-byte instruction. */
function callRel32(rel: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, rel, true);
  return [0xe8, ...b];
}

function nops(n: number): number[] {
  return new Array<number>(n).fill(0x90);
}

let uc: Unicorn;

beforeEach(() => {
  uc = Unicorn.open();
});

afterEach(() => {
  uc.close();
});

/** Map one RWX page at `addr` and put `code` there; returns the end address of the code. */
function load(addr: bigint, code: number[], prot: number = UcProt.ALL): bigint {
  uc.memMap(addr, PAGE, prot);
  uc.memWrite(addr, Uint8Array.from(code));
  return addr + BigInt(code.length);
}

function ucError(fn: () => unknown): UnicornError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UnicornError);
    return e as UnicornError;
  }
  throw new Error('expected a UnicornError');
}

describe('running code', () => {
  it('mov rax, 0x1234; add rax, rbx computes 0x1234 + rbx and leaves rip at the end', () => {
    const end = load(CODE, [...MOV_RAX_0x1234, ...ADD_RAX_RBX]);
    uc.regWrite(X86Reg.RBX, 0x10n);
    uc.start(CODE, end);
    expect(uc.regRead(X86Reg.RAX)).toBe(0x1244n); // 0x1234 + 0x10
    expect(uc.regRead(X86Reg.RBX)).toBe(0x10n);
    expect(uc.regRead(X86Reg.RIP)).toBe(end);
  });

  it('runs code at a kernel module address (0xffffffffc0000000)', () => {
    const end = load(KCODE, [...MOV_RAX_0x1234, ...ADD_RAX_RBX]);
    uc.regWrite(X86Reg.RBX, 1n);
    uc.start(KCODE, end);
    expect(uc.regRead(X86Reg.RAX)).toBe(0x1235n);
    expect(uc.regRead(X86Reg.RIP)).toBe(end);
  });

  it('call and ret go through a stack in the vmalloc area and return to the call site', () => {
    // KCODE+0: call +1 (to KCODE+6) ; KCODE+5: nop (the run ends here) ; KCODE+6: mov rax, 0x1234 ; ret
    const code = [...callRel32(1), ...NOP, ...MOV_RAX_0x1234, ...RET];
    load(KCODE, code);
    const stackTop = KSTACK + 0x4000n;
    uc.memMap(KSTACK, 0x4000);
    uc.regWrite(X86Reg.RSP, stackTop);
    const seen: bigint[] = [];
    uc.hookCode((address) => seen.push(address), KCODE, KCODE + 0xfffn);
    uc.start(KCODE, KCODE + 5n);
    expect(uc.regRead(X86Reg.RAX)).toBe(0x1234n);
    expect(uc.regRead(X86Reg.RSP)).toBe(stackTop); // ret popped what call pushed
    expect(uc.memReadU64(stackTop - 8n)).toBe(KCODE + 5n); // the pushed return address
    expect(seen).toEqual([KCODE, KCODE + 6n, KCODE + 13n]); // call, mov, ret (7-byte mov)
  });

  it('the count option stops after exactly N instructions', () => {
    load(CODE, nops(100));
    uc.start(CODE, CODE + 100n, { count: 10 });
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE + 10n); // ten one-byte nops
  });

  it('a later run without count runs to the end again', () => {
    load(CODE, nops(100));
    uc.start(CODE, CODE + 100n, { count: 3 });
    uc.start(CODE, CODE + 100n);
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE + 100n);
  });

  it('the timeout stops jmp $ and start reports timedOut', () => {
    load(CODE, JMP_SELF);
    const result = uc.start(CODE, CODE + 2n, { timeoutUs: 20_000 });
    expect(result.timedOut).toBe(true);
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE);
    expect(uc.query(UcQueryType.TIMEOUT)).toBe(1);
  });

  it('a run that ends normally within its timeout is not timedOut', () => {
    const end = load(CODE, nops(4));
    expect(uc.start(CODE, end, { timeoutUs: 10_000_000 })).toEqual({ timedOut: false });
  });

  it('count and timeout together: whichever comes first stops the run', () => {
    load(CODE, JMP_SELF);
    const result = uc.start(CODE, CODE + 2n, { count: 1000, timeoutUs: 10_000_000 });
    expect(result.timedOut).toBe(false); // 1000 iterations of jmp $ take far less than 10 s
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE);
  });

  it('code rewritten between runs is re-translated (uc_mem_write invalidates blocks)', () => {
    const end = load(CODE, [...MOV_RAX_0x1234, ...NOP, ...NOP, ...NOP]);
    uc.start(CODE, end);
    expect(uc.regRead(X86Reg.RAX)).toBe(0x1234n);
    uc.memWrite(CODE, Uint8Array.from([...NOP, ...INC_RAX, ...INC_RAX, ...INC_RAX])); // same 10 bytes
    uc.regWrite(X86Reg.RAX, 0n);
    uc.start(CODE, end);
    expect(uc.regRead(X86Reg.RAX)).toBe(3n);
  });

  it('ctlSetExits stops at any listed address and ignores until', () => {
    load(CODE, nops(32));
    uc.ctlSetExits([CODE + 7n, CODE + 20n]);
    uc.start(CODE, 0n);
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE + 7n);
    uc.start(CODE + 8n, 0n);
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE + 20n);
    uc.ctlSetExits(null);
    uc.start(CODE, CODE + 3n);
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE + 3n);
  });
});

describe('memory faults', () => {
  it('a read from unmapped memory raises UC_ERR_READ_UNMAPPED with the address', () => {
    const end = load(CODE, MOV_RAX_MEM_RBX);
    uc.regWrite(X86Reg.RBX, 0x900000n);
    const e = ucError(() => uc.start(CODE, end));
    expect(e.ucErr).toBe(UcErr.READ_UNMAPPED);
    expect(e.ucErrName).toBe('UC_ERR_READ_UNMAPPED');
    expect(e.code).toBe('UC_ERR_READ_UNMAPPED');
    expect(e).toBeInstanceOf(TailjitError);
    expect(e.message).toContain('Invalid memory read (UC_ERR_READ_UNMAPPED)');
    expect(e.message).toContain('uc_emu_start');
    expect(e.fault).toEqual({ type: UcMemType.READ_UNMAPPED, address: 0x900000n, size: 8 });
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE); // rip stays on the faulting instruction
  });

  it('a fetch from unmapped memory raises UC_ERR_FETCH_UNMAPPED', () => {
    const e = ucError(() => uc.start(0x700000n, 0x700010n));
    expect(e.ucErr).toBe(UcErr.FETCH_UNMAPPED);
    expect(e.fault?.address).toBe(0x700000n);
  });

  it('writing a read-only page raises UC_ERR_WRITE_PROT', () => {
    const end = load(CODE, MOV_MEM_RBX_RAX);
    uc.memMap(0x20000n, PAGE, UcProt.READ);
    uc.regWrite(X86Reg.RBX, 0x20010n);
    const e = ucError(() => uc.start(CODE, end));
    expect(e.ucErr).toBe(UcErr.WRITE_PROT);
    expect(e.fault).toEqual({ type: UcMemType.WRITE_PROT, address: 0x20010n, size: 8 });
  });

  it('executing a non-executable page raises UC_ERR_FETCH_PROT', () => {
    const end = load(CODE, NOP, UcProt.READ | UcProt.WRITE);
    expect(ucError(() => uc.start(CODE, end)).ucErr).toBe(UcErr.FETCH_PROT);
  });

  it('push into the unmapped guard page below a stack raises UC_ERR_WRITE_UNMAPPED', () => {
    const end = load(KCODE, PUSH_RAX);
    const stackBottom = KSTACK + 0x1000n; // [KSTACK, KSTACK+0x1000) stays unmapped: the guard page
    uc.memMap(stackBottom, 0x4000);
    uc.regWrite(X86Reg.RSP, stackBottom); // stack exhausted: the next push writes stackBottom - 8
    const e = ucError(() => uc.start(KCODE, end));
    expect(e.ucErr).toBe(UcErr.WRITE_UNMAPPED);
    expect(e.fault).toEqual({ type: UcMemType.WRITE_UNMAPPED, address: stackBottom - 8n, size: 8 });
  });

  it('hookMemInvalid can map the missing page and let the read continue', () => {
    const end = load(CODE, MOV_RAX_MEM_RBX);
    uc.regWrite(X86Reg.RBX, 0x900008n);
    const faults: [number, bigint, number][] = [];
    uc.hookMemInvalid((type, address, size) => {
      faults.push([type, address, size]);
      uc.memMap(0x900000n, PAGE);
      uc.memWriteU64(0x900008n, 0xfeedn);
      return true;
    });
    uc.start(CODE, end);
    expect(uc.regRead(X86Reg.RAX)).toBe(0xfeedn);
    expect(faults).toEqual([[UcMemType.READ_UNMAPPED, 0x900008n, 8]]);
  });

  it('hookMemInvalid returning false stops with the matching error', () => {
    const end = load(CODE, MOV_MEM_RBX_RAX);
    uc.regWrite(X86Reg.RBX, 0x900000n);
    uc.regWrite(X86Reg.RAX, -2n);
    let seen: [number, bigint, number, bigint] | undefined;
    uc.hookMemInvalid((type, address, size, value) => {
      seen = [type, address, size, value];
      return false;
    });
    expect(ucError(() => uc.start(CODE, end)).ucErr).toBe(UcErr.WRITE_UNMAPPED);
    expect(seen).toEqual([UcMemType.WRITE_UNMAPPED, 0x900000n, 8, 0xfffffffffffffffen]); // -2 as u64
  });
});

describe('hooks', () => {
  it('a code hook on a range fires for exactly the instructions in it', () => {
    load(CODE, nops(8));
    const seen: [bigint, number][] = [];
    uc.hookCode((address, size) => seen.push([address, size]), CODE + 2n, CODE + 4n);
    uc.start(CODE, CODE + 8n);
    expect(seen).toEqual([[CODE + 2n, 1], [CODE + 3n, 1], [CODE + 4n, 1]]); // end is inclusive
  });

  it('a code hook added after the code already ran still fires for all of it', () => {
    // 2.0.1 would keep using the uninstrumented blocks; the binding flushes them on hookCode.
    load(CODE, [...nops(6), 0xeb, 0x00, ...nops(4)]); // two blocks: nop*6; jmp +0 | nop*4
    uc.start(CODE, CODE + 12n);
    const seen: bigint[] = [];
    uc.hookCode((address) => seen.push(address - CODE));
    uc.start(CODE, CODE + 12n);
    expect(seen).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 8n, 9n, 10n, 11n]);
  });

  it('a memory-access hook added after the code already ran still sees its accesses', () => {
    const end = load(CODE, MOV_MEM_RBX_RAX);
    uc.memMap(0x20000n, PAGE);
    uc.regWrite(X86Reg.RBX, 0x20000n);
    uc.start(CODE, end);
    const writes: bigint[] = [];
    uc.hookMemAccess((_type, address) => writes.push(address), UcHookType.MEM_WRITE, 0x20000n, 0x20fffn);
    uc.start(CODE, end);
    expect(writes).toEqual([0x20000n]);
  });

  it('with count, a code hook sees exactly the counted instructions', () => {
    load(CODE, nops(16));
    const seen: bigint[] = [];
    uc.hookCode((address) => seen.push(address - CODE));
    uc.start(CODE, CODE + 16n, { count: 3 });
    expect(seen).toEqual([0n, 1n, 2n]); // unicorn's count hook runs first and stops before the 4th
  });

  it('restarting at the address of a stopping hook stops there again at once', () => {
    load(CODE, nops(8));
    uc.hookCode(() => uc.stop(), CODE + 2n, CODE + 2n);
    uc.start(CODE, CODE + 8n);
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE + 2n);
    uc.start(CODE + 2n, CODE + 8n);
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE + 2n); // the hook fires before the first instruction too
  });

  it('a code hook on a high range outside the code never fires', () => {
    load(KCODE, nops(8));
    let hits = 0;
    uc.hookCode(() => hits++, KCODE + 0x100n, KCODE + 0x200n);
    uc.start(KCODE, KCODE + 8n);
    expect(hits).toBe(0);
  });

  it('a block hook fires once per basic block with its byte size', () => {
    // CODE: nop; nop; jmp +0 (EB 00: to the next instruction, ending the block); nop
    load(CODE, [...NOP, ...NOP, 0xeb, 0x00, ...NOP]);
    const blocks: [bigint, number][] = [];
    uc.hookBlock((address, size) => blocks.push([address, size]));
    uc.start(CODE, CODE + 5n);
    expect(blocks).toEqual([[CODE, 4], [CODE + 4n, 1]]);
  });

  it('an exception thrown in a hook stops the run and surfaces from start()', () => {
    load(CODE, nops(8));
    const boom = new Error('boom');
    let calls = 0;
    uc.hookCode(() => {
      calls++;
      throw boom;
    }, CODE + 3n, CODE + 3n);
    expect(() => uc.start(CODE, CODE + 8n)).toThrow(boom);
    expect(calls).toBe(1);
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE + 3n);
  });

  it('only the first exception of a run is re-thrown, and the engine stays usable', () => {
    load(CODE, nops(8));
    const h = uc.hookCode((address) => {
      throw new Error(`at ${address}`);
    });
    expect(() => uc.start(CODE, CODE + 8n)).toThrow(`at ${CODE}`);
    uc.hookDel(h);
    uc.start(CODE, CODE + 8n);
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE + 8n);
  });

  it('stop() in a code hook ends the run before that instruction executes', () => {
    load(CODE, [...INC_RAX, ...INC_RAX, ...INC_RAX]);
    uc.regWrite(X86Reg.RAX, 0n);
    uc.hookCode(() => uc.stop(), CODE + 3n, CODE + 3n);
    uc.start(CODE, CODE + 9n);
    expect(uc.regRead(X86Reg.RAX)).toBe(1n);
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE + 3n);
  });

  it('a memory-access hook reports reads and writes with size and written value', () => {
    const end = load(CODE, [...MOV_MEM_RBX_RAX, ...MOV_RAX_MEM_RBX]);
    uc.memMap(0x20000n, PAGE);
    uc.regWrite(X86Reg.RBX, 0x20008n);
    uc.regWrite(X86Reg.RAX, 0x1122334455667788n);
    const accesses: [number, bigint, number, bigint][] = [];
    uc.hookMemAccess((type, address, size, value) => {
      accesses.push([type, address, size, type === UcMemType.WRITE ? value : 0n]);
    }, UcHookType.MEM_READ | UcHookType.MEM_WRITE, 0x20000n, 0x20fffn);
    uc.start(CODE, end);
    expect(accesses).toEqual([
      [UcMemType.WRITE, 0x20008n, 8, 0x1122334455667788n],
      [UcMemType.READ, 0x20008n, 8, 0n],
    ]);
  });

  it('an interrupt hook sees int3 as vector 3 and the run continues after it', () => {
    const end = load(CODE, [...INT3, ...INC_RAX]);
    uc.regWrite(X86Reg.RAX, 0n);
    const vectors: number[] = [];
    uc.hookInterrupt((intno) => vectors.push(intno));
    uc.start(CODE, end);
    expect(vectors).toEqual([3]);
    expect(uc.regRead(X86Reg.RAX)).toBe(1n);
  });

  it('int3 without an interrupt hook ends the run with UC_ERR_EXCEPTION', () => {
    const end = load(CODE, INT3);
    expect(ucError(() => uc.start(CODE, end)).ucErr).toBe(UcErr.EXCEPTION);
  });

  it('ud2 reaches hookInsnInvalid, and returning false stops with UC_ERR_INSN_INVALID', () => {
    const end = load(CODE, UD2);
    let calls = 0;
    uc.hookInsnInvalid(() => {
      calls++;
      return false;
    });
    expect(ucError(() => uc.start(CODE, end)).ucErr).toBe(UcErr.INSN_INVALID);
    expect(calls).toBe(1);
  });

  it('hookDel removes a hook; an unknown handle is UC_ERR_ARG', () => {
    load(CODE, nops(4));
    let hits = 0;
    const h = uc.hookCode(() => hits++);
    expect(uc.hookCount).toBe(1);
    uc.hookDel(h);
    expect(uc.hookCount).toBe(0);
    uc.start(CODE, CODE + 4n);
    expect(hits).toBe(0);
    expect(ucError(() => uc.hookDel(h)).ucErr).toBe(UcErr.ARG);
    expect(ucError(() => uc.hookDel(12345n as HookHandle)).ucErr).toBe(UcErr.ARG);
  });

  it('a hook may delete itself and is not called again, in this run or the next', () => {
    load(CODE, nops(6));
    let hits = 0;
    const h: HookHandle = uc.hookCode(() => {
      hits++;
      uc.hookDel(h);
    });
    uc.start(CODE, CODE + 6n);
    expect(hits).toBe(1); // 2.0.1 itself would call it for the rest of the block
    expect(uc.regRead(X86Reg.RIP)).toBe(CODE + 6n);
    uc.start(CODE, CODE + 6n);
    expect(hits).toBe(1);
  });

  it('adding a hook from inside a hook is refused, and the refusal surfaces from start()', () => {
    load(CODE, nops(4));
    uc.hookCode(() => uc.hookCode(() => undefined), CODE, CODE);
    const e = ucError(() => uc.start(CODE, CODE + 4n));
    expect(e.ucErr).toBe(UcErr.ARG);
    expect(e.call).toBe('hookCode');
    expect(uc.hookCount).toBe(1);
  });

  it('hookDel and close() release every koffi callback registration', () => {
    const before = koffi.stats().callbacks;
    const e = Unicorn.open(); // + the fault recorder
    const hooks = [e.hookCode(() => undefined), e.hookBlock(() => undefined), e.hookInterrupt(() => undefined)];
    expect(koffi.stats().callbacks).toBe(before + 4);
    e.hookDel(hooks[1]);
    expect(koffi.stats().callbacks).toBe(before + 3);
    e.close();
    expect(koffi.stats().callbacks).toBe(before);
  });

  it('start() cannot be nested inside a hook', () => {
    load(CODE, nops(2));
    uc.hookCode(() => uc.start(CODE, CODE + 1n), CODE, CODE);
    expect(ucError(() => uc.start(CODE, CODE + 2n)).ucErr).toBe(UcErr.ARG);
  });
});

describe('registers', () => {
  it('RFLAGS shows CF after stc', () => {
    const end = load(CODE, STC);
    uc.start(CODE, end);
    expect(uc.regRead(X86Reg.RFLAGS) & 1n).toBe(1n);
  });

  it('FS_BASE and GS_BASE are the bases fs: and gs: addressing uses', () => {
    // 64 / 65 = fs / gs segment prefix; REX.W 8B /r with ModRM 04 + SIB 25 = [disp32] absolute
    const movRaxFs0 = [0x64, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00];
    const movRcxGs8 = [0x65, 0x48, 0x8b, 0x0c, 0x25, 0x08, 0x00, 0x00, 0x00]; // ModRM 0c: reg=rcx
    const end = load(CODE, [...movRaxFs0, ...movRcxGs8]);
    uc.memMap(KSTACK, PAGE);
    uc.memWriteU64(KSTACK + 0x100n, 0xf5n);
    uc.memWriteU64(KSTACK + 0x208n, 0x65n);
    uc.regWrite(X86Reg.FS_BASE, KSTACK + 0x100n);
    uc.regWrite(X86Reg.GS_BASE, KSTACK + 0x200n);
    uc.start(CODE, end);
    expect(uc.regRead(X86Reg.RAX)).toBe(0xf5n);
    expect(uc.regRead(X86Reg.RCX)).toBe(0x65n);
  });

  it('MSR 0xc0000100 (IA32_FS_BASE) and 0xc0000101 (IA32_GS_BASE) mirror FS_BASE/GS_BASE', () => {
    uc.msrWrite(0xc0000100, KSTACK);
    expect(uc.regRead(X86Reg.FS_BASE)).toBe(KSTACK);
    uc.regWrite(X86Reg.GS_BASE, KCODE);
    expect(uc.msrRead(0xc0000101)).toBe(KCODE);
  });

  it('narrow registers read zero-extended and write their low bytes', () => {
    uc.regWrite(X86Reg.RAX, 0x1122334455667788n);
    expect(uc.regRead(X86Reg.EAX)).toBe(0x55667788n);
    expect(uc.regRead(X86Reg.AX)).toBe(0x7788n);
    expect(uc.regRead(X86Reg.AL)).toBe(0x88n);
    expect(uc.regRead(X86Reg.AH)).toBe(0x77n);
    uc.regWrite(X86Reg.AL, 0xffn);
    expect(uc.regRead(X86Reg.RAX)).toBe(0x11223344556677ffn);
  });

  it('negative values are written as two\'s complement', () => {
    uc.regWrite(X86Reg.RDX, -1n);
    expect(uc.regRead(X86Reg.RDX)).toBe(0xffffffffffffffffn);
  });

  it('XMM registers are 128-bit values; movq xmm0, rax fills the low half', () => {
    const end = load(CODE, [0x66, 0x48, 0x0f, 0x6e, 0xc0]); // 66 REX.W 0F 6E /r: movq xmm0, rax
    uc.regWrite(X86Reg.XMM0, (1n << 128n) - 1n);
    uc.regWrite(X86Reg.RAX, 0xabcdn);
    uc.start(CODE, end);
    expect(uc.regRead(X86Reg.XMM0)).toBe(0xabcdn); // movq zeroes bits 64..127
    const wide = 0x0123456789abcdef_fedcba9876543210n;
    uc.regWrite(X86Reg.XMM7, wide);
    expect(uc.regRead(X86Reg.XMM7)).toBe(wide);
  });

  it('regReadBatch and regWriteBatch move several registers in one call', () => {
    uc.regWriteBatch([X86Reg.RAX, X86Reg.R15, X86Reg.RSP], [1n, KCODE, KSTACK]);
    expect(uc.regRead(X86Reg.R15)).toBe(KCODE);
    expect(uc.regReadBatch([X86Reg.RSP, X86Reg.RAX, X86Reg.R15])).toEqual([KSTACK, 1n, KCODE]);
    const many = Array.from({ length: 20 }, (_, i) => X86Reg.R8 + (i % 8)); // grows past 16 slots
    expect(uc.regReadBatch(many)[7]).toBe(KCODE); // R15
  });

  it('rejects values that do not fit and registers that are not plain values', () => {
    expect(ucError(() => uc.regWrite(X86Reg.RAX, 1n << 64n)).ucErr).toBe(UcErr.ARG);
    expect(ucError(() => uc.regWrite(X86Reg.RAX, 5 as unknown as bigint)).ucErr).toBe(UcErr.ARG);
    expect(ucError(() => uc.regRead(X86Reg.MSR)).ucErr).toBe(UcErr.ARG);
    expect(ucError(() => uc.regRead(X86Reg.ENDING)).ucErr).toBe(UcErr.ARG);
    expect(ucError(() => uc.regReadBatch([X86Reg.XMM0])).ucErr).toBe(UcErr.ARG);
  });
});

describe('contexts', () => {
  it('contextRestore brings back the registers saved by contextSave', () => {
    uc.regWrite(X86Reg.RAX, 1n);
    uc.regWrite(X86Reg.RIP, KCODE);
    const ctx = uc.contextSave();
    uc.regWrite(X86Reg.RAX, 2n);
    uc.regWrite(X86Reg.RIP, CODE);
    expect(ctx.regRead(X86Reg.RAX)).toBe(1n);
    uc.contextRestore(ctx);
    expect(uc.regRead(X86Reg.RAX)).toBe(1n);
    expect(uc.regRead(X86Reg.RIP)).toBe(KCODE);
    ctx.free();
  });

  it('contextSave(into) reuses a context, and a context can be edited', () => {
    uc.regWrite(X86Reg.RBX, 7n);
    const ctx = uc.contextSave();
    uc.regWrite(X86Reg.RBX, 8n);
    expect(uc.contextSave(ctx)).toBe(ctx);
    ctx.regWrite(X86Reg.RCX, 9n);
    uc.regWrite(X86Reg.RBX, 0n);
    uc.contextRestore(ctx);
    expect(uc.regReadBatch([X86Reg.RBX, X86Reg.RCX])).toEqual([8n, 9n]);
  });

  it('a freed context is UC_ERR_HANDLE, and close() frees live contexts', () => {
    const ctx = uc.contextSave();
    ctx.free();
    ctx.free(); // idempotent
    expect(ctx.freed).toBe(true);
    expect(ucError(() => uc.contextRestore(ctx)).ucErr).toBe(UcErr.HANDLE);
    const other = Unicorn.open();
    const live = other.contextSave();
    other.close();
    expect(live.freed).toBe(true);
  });
});

describe('memory', () => {
  it('memRegions lists mappings, split by memProtect, with inclusive ends', () => {
    uc.memMap(CODE, 3 * PAGE, UcProt.ALL);
    uc.memMap(KCODE, PAGE, UcProt.READ);
    uc.memProtect(CODE + 0x1000n, PAGE, UcProt.READ | UcProt.WRITE);
    expect(uc.memRegions()).toEqual([
      { begin: CODE, end: CODE + 0xfffn, perms: UcProt.ALL },
      { begin: CODE + 0x1000n, end: CODE + 0x1fffn, perms: UcProt.READ | UcProt.WRITE },
      { begin: CODE + 0x2000n, end: CODE + 0x2fffn, perms: UcProt.ALL },
      { begin: KCODE, end: KCODE + 0xfffn, perms: UcProt.READ },
    ]);
    uc.memUnmap(CODE, 3 * PAGE);
    expect(uc.memRegions()).toHaveLength(1);
  });

  it('memRead, memReadInto and memReadU64 see what memWrite wrote', () => {
    uc.memMap(KSTACK, PAGE);
    uc.memWrite(KSTACK + 0x10n, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect([...uc.memRead(KSTACK + 0x10n, 4)]).toEqual([1, 2, 3, 4]);
    const dst = new Uint8Array(2);
    uc.memReadInto(KSTACK + 0x16n, dst);
    expect([...dst]).toEqual([7, 8]);
    expect(uc.memReadU64(KSTACK + 0x10n)).toBe(0x0807060504030201n); // little-endian
    uc.memWriteU64(KSTACK + 0x18n, -1n);
    expect([...uc.memRead(KSTACK + 0x18n, 8)]).toEqual(new Array(8).fill(0xff));
  });

  it('reading unmapped memory from the host is UC_ERR_READ_UNMAPPED naming the call', () => {
    const e = ucError(() => uc.memRead(0x5000n, 4));
    expect(e.ucErr).toBe(UcErr.READ_UNMAPPED);
    expect(e.call).toBe('uc_mem_read(0x5000, 4)');
  });

  it('the engine rejects unaligned and overlapping maps', () => {
    expect(ucError(() => uc.memMap(0x1001n, PAGE)).ucErr).toBe(UcErr.ARG);
    uc.memMap(0x1000n, PAGE);
    expect(ucError(() => uc.memMap(0x1000n, PAGE)).ucErr).toBe(UcErr.MAP);
  });

  it('the page size is 4096', () => {
    expect(uc.pageSize()).toBe(4096);
  });
});

describe('misuse', () => {
  it('addresses must be bigints in [0, 2^64)', () => {
    expect(ucError(() => uc.memMap(-4096n, PAGE)).ucErr).toBe(UcErr.ARG);
    expect(ucError(() => uc.memRead(1n << 64n, 1)).message).toContain('memRead: addr must be a bigint in [0, 2^64), got 0x10000000000000000n');
    expect(ucError(() => uc.start(0x1000 as unknown as bigint, 0n)).ucErr).toBe(UcErr.ARG);
    expect(ucError(() => uc.memRead(0x1000n, -1)).ucErr).toBe(UcErr.ARG);
  });

  it('hook kinds must be of the hook\'s family', () => {
    expect(ucError(() => uc.hookMemInvalid(() => false, UcHookType.MEM_READ)).ucErr).toBe(UcErr.ARG);
    expect(ucError(() => uc.hookMemAccess(() => undefined, UcHookType.MEM_READ_UNMAPPED)).ucErr).toBe(UcErr.ARG);
  });

  it('every method of a closed engine is UC_ERR_HANDLE; close is idempotent', () => {
    const e = Unicorn.open();
    e.close();
    e.close();
    expect(e.closed).toBe(true);
    expect(ucError(() => e.memMap(0x1000n, PAGE)).ucErr).toBe(UcErr.HANDLE);
    expect(ucError(() => e.regRead(X86Reg.RAX)).ucErr).toBe(UcErr.HANDLE);
    expect(ucError(() => e.start(0x1000n, 0x1001n)).ucErr).toBe(UcErr.HANDLE);
  });

  it('close() from inside a hook is refused (and surfaces from start)', () => {
    load(CODE, nops(2));
    uc.hookCode(() => uc.close(), CODE, CODE);
    expect(ucError(() => uc.start(CODE, CODE + 2n)).call).toBe('close');
    expect(uc.closed).toBe(false);
  });

  it('an unsupported mode is UC_ERR_MODE from uc_open', () => {
    expect(ucError(() => Unicorn.open(undefined, 0x40000000)).ucErr).toBe(UcErr.MODE);
  });
});
