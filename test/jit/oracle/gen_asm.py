#!/usr/bin/env python3
# Writes the purpose-built oracle programs of the JIT tests as BPF assembly made of raw
# instruction words (LLVM 14's assembler has no BPF_ST with an immediate, and raw words keep
# every field exactly as written). Each program covers rules of x86-jit.md with their operand
# variants; the 5.10.223 kernel's JIT images of them are the expected values of
# test/jit/oracle.test.ts. Run: python3 gen_asm.py && bash build.sh
import os, struct

HERE = os.path.dirname(os.path.abspath(__file__))

def ins(code, dst=0, src=0, off=0, imm=0):
    return [struct.pack('<BBhi', code, (src << 4) | dst, off, imm)]

def ld64(dst, value):
    value &= (1 << 64) - 1
    lo, hi = value & 0xffffffff, value >> 32
    s = lambda v: v - (1 << 32) if v >= 1 << 31 else v
    return [struct.pack('<BBhi', 0x18, dst, 0, s(lo)), struct.pack('<BBhi', 0, 0, 0, s(hi))]

ALU64, ALU, JMP, JMP32 = 0x07, 0x04, 0x05, 0x06
X, K = 0x08, 0x00
OP = dict(add=0x00, sub=0x10, mul=0x20, div=0x30, or_=0x40, and_=0x50, lsh=0x60, rsh=0x70, neg=0x80,
          mod=0x90, xor=0xa0, mov=0xb0, arsh=0xc0, end=0xd0)
JOP = dict(ja=0x00, jeq=0x10, jgt=0x20, jge=0x30, jset=0x40, jne=0x50, jsgt=0x60, jsge=0x70, call=0x80,
           exit=0x90, jlt=0xa0, jle=0xb0, jslt=0xc0, jsle=0xd0)
B, H, W, DW = 0x10, 0x08, 0x00, 0x18

def alu(cls, op, dst, src=None, imm=0):
    return ins(cls | OP[op] | (X if src is not None else K), dst, src or 0, 0, imm)
def mov(d, k): return alu(ALU64, 'mov', d, imm=k)
def add1(d): return alu(ALU64, 'add', d, imm=1)
def ldx(size, d, s, off): return ins(0x61 | size, d, s, off)
def stx(size, d, s, off): return ins(0x63 | size, d, s, off)
def st(size, d, off, imm): return ins(0x62 | size, d, 0, off, imm)
def xadd(size, d, s, off): return ins(0xc3 | size, d, s, off)
def jmp(cls, op, d, off, src=None, imm=0): return ins(cls | JOP[op] | (X if src is not None else K), d, src or 0, off, imm)
def ja(off): return ins(JMP | JOP['ja'], 0, 0, off)
def call(helper): return ins(0x85, 0, 0, 0, helper)
EXIT = ins(0x95)
PRANDOM, KTIME = 7, 5

def prelude():
    # Every register a known scalar (r1 = ctx is replaced), so the verifier accepts any ALU on them.
    out = []
    for r in range(10):
        out += mov(r, r * 3 + 1)
    return out

def prog_alu():
    p = prelude()
    for k in (0, 1, -1, 0x7fffffff, -0x80000000, 127, 128, -128, -129):
        for r in (0, 2, 5, 9):
            p += alu(ALU64, 'mov', r, imm=k) + alu(ALU, 'mov', r, imm=k)
    for v in (0, 1, 0xffffffff, 0x80000000, 1 << 32, -1, 0xffffffff80000000, 0x123456789abcdef0):
        for r in (0, 3, 5, 9):
            p += ld64(r, v)
    pairs = [(0, 1), (5, 7), (2, 9), (3, 3), (1, 2), (6, 5), (7, 8), (0, 9), (9, 9)]
    for cls in (ALU64, ALU):
        for d, s in pairs:
            p += alu(cls, 'mov', d, s)
            for op in ('add', 'sub', 'and_', 'or_', 'xor'):
                p += alu(cls, op, d, s)
        for d in (0, 1, 4, 5, 7, 9):
            for k in (0, 1, 127, 128, -128, -129, 0x12345678):
                for op in ('add', 'sub', 'and_', 'or_', 'xor'):
                    p += alu(cls, op, d, imm=k)
            p += alu(cls, 'neg', d)
    for d in (0, 1, 5, 9):
        for bits in (16, 32, 64):
            p += ins(ALU | OP['end'] | X, d, 0, 0, bits) + ins(ALU | OP['end'] | K, d, 0, 0, bits)
    return p + mov(0, 0) + EXIT

def prog_muldiv():
    p = prelude()
    regs = (0, 1, 3, 4, 5, 7, 9)
    for cls in (ALU64, ALU):
        for d in regs:
            for k in (3, -3, 0, 7):
                p += alu(cls, 'mul', d, imm=k)
            for s in regs:
                p += alu(cls, 'mul', d, s)
        for d in regs:
            for k in (3, -3, 1000000):
                p += alu(cls, 'div', d, imm=k) + alu(cls, 'mod', d, imm=k)
            for s in (0, 3, 7, 2):
                p += mov(s, 5) if s != d else []
                p += alu(cls, 'div', d, s) + alu(cls, 'mod', d, s)
        p += prelude()
    return p + mov(0, 0) + EXIT

def prog_shift():
    p = prelude()
    regs = (0, 1, 2, 4, 5, 9)
    for cls, ks in ((ALU64, (0, 1, 5, 31, 32, 63)), (ALU, (0, 1, 5, 31))):
        for op in ('lsh', 'rsh', 'arsh'):
            for d in regs:
                for k in ks:
                    p += alu(cls, op, d, imm=k)
                for s in regs:
                    p += mov(s, 3) + alu(cls, op, d, s)
    return p + mov(0, 0) + EXIT

def prog_mem():
    p = prelude()
    p += alu(ALU64, 'mov', 6, 10) + alu(ALU64, 'mov', 7, 10) + alu(ALU64, 'add', 7, imm=-256)
    # Initialise the whole stack we use with DW stores from r1 (8-byte granularity).
    for off in range(-8, -257, -8):
        p += stx(DW, 10, 1, off)
    for size in (B, H, W, DW):
        for s in (0, 1, 2, 3, 4, 5, 9):
            p += stx(size, 10, s, -8)
        p += stx(size, 10, 1, -200) + stx(size, 6, 1, -16) + stx(size, 7, 1, 8) + stx(size, 7, 5, 8) + stx(size, 7, 1, 200)
        for k in (0x11, -5, 0x44556677):
            p += st(size, 10, -8, k) + st(size, 10, -200, k) + st(size, 7, 8, k) + st(size, 6, -32, k)
        for d in (0, 1, 3, 5, 9):
            p += ldx(size, d, 10, -8) + ldx(size, d, 10, -200) + ldx(size, d, 7, 8) + ldx(size, d, 6, -16)
        p += prelude() + alu(ALU64, 'mov', 6, 10) + alu(ALU64, 'mov', 7, 10) + alu(ALU64, 'add', 7, imm=-256)
    p += stx(DW, 10, 10, -16) + stx(DW, 10, 1, -16)  # spill of r10 itself
    for size in (W, DW):
        for d, s, off in ((10, 1, -8), (10, 5, -8), (10, 0, -8), (10, 1, -200), (7, 1, 8), (7, 5, 8)):
            p += xadd(size, d, s, off)
    return p + mov(0, 0) + EXIT

CONDS = ('jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset')

def reload(*regs):
    # A fresh unknown u32 (skb->len through the ctx kept in r2) before every compare, so that no
    # branch becomes decidable and no register precise: the verifier can prune at every join.
    out = []
    for r in regs:
        out += ldx(W, r, 2, 0)
    return out

def prog_jmp():
    parts = ('conds', 'fwd', 'cloop', 'jloop', 'exits')
    p = alu(ALU64, 'mov', 2, 1) + reload(0, 6, 7, 8, 9)
    skip = mov(5, 1)  # r5 is dead after every join
    for cls in ((JMP, JMP32) if 'conds' in parts else ()):
        for op in CONDS:
            for d, s in ((6, 7), (7, 8), (1, 6), (6, 6), (9, 0)):
                p += reload(d, s) + jmp(cls, op, d, 1, src=s) + skip
            for d in (6, 8, 0):
                for k in (0, 5, -5, 127, 128, 0x1000, -129):
                    p += reload(d) + jmp(cls, op, d, 1, imm=k) + skip
    p += reload(0, 6, 7)
    # jcc +0 over an instruction that emits nothing, ja over nothing.
    p += jmp(JMP, 'jeq', 6, 1, imm=3) + ins(ALU | OP['end'] | K, 0, 0, 0, 64)
    # (the jcc keeps the skipped instruction reachable: the verifier rejects unreachable code)
    p += jmp(JMP, 'jgt', 7, 1, imm=5) + ja(1) + ins(ALU | OP['end'] | K, 0, 0, 0, 64)
    # Forward rel8/rel32 boundaries: 3 + 4n bytes skipped.
    for n in ((30, 31, 32, 33) if 'fwd' in parts else ()):
        p += jmp(JMP, 'jgt', 6, n + 1, imm=5) + alu(ALU64, 'mov', 5, 6) + add1(5) * n
        p += jmp(JMP, 'jgt', 7, 1, imm=5) + ja(n + 1) + alu(ALU64, 'mov', 5, 6) + add1(5) * n
    # Backward conditional loops around the rel8 limit: body of 3 + 4n (+3) bytes.
    for n, extra in (((26, 1), (27, 0), (27, 1), (28, 0), (28, 1)) if 'cloop' in parts else ()):
        body = alu(ALU64, 'mov', 5, 6) + add1(5) * n + (alu(ALU64, 'mov', 5, 7) if extra else [])
        body += add1(1)
        p += mov(1, 0) + body + jmp(JMP, 'jlt', 1, -(len(body) + 1), imm=3)
    # Backward ja loops: top: if r1 > 2 goto out; body; r1 += 1; goto top.
    for n in ((26, 27, 28, 29, 30) if 'jloop' in parts else ()):
        body = alu(ALU64, 'mov', 5, 6) + add1(5) * n + add1(1)
        loop = jmp(JMP, 'jgt', 1, len(body) + 1, imm=2) + body
        p += mov(1, 0) + loop + ja(-(len(loop) + 1))
    # Several exits at growing distances from the first one (the epilogue).
    if 'exits' not in parts:
        return p + mov(0, 0) + EXIT
    p += jmp(JMP, 'jgt', 6, 2, imm=5) + mov(0, 1) + EXIT
    for n in (20, 27, 28, 29, 30, 31, 50):
        p += alu(ALU64, 'mov', 5, 6) + add1(5) * n
        p += jmp(JMP, 'jgt', 7, 1, imm=5) + EXIT
    return p + mov(0, 0) + EXIT

def prog_calls():
    p = mov(0, 0)
    for h in (PRANDOM, KTIME, PRANDOM):
        p += call(h) + alu(ALU64, 'mov', 6, 0)
    p += jmp(JMP, 'jgt', 6, 2, imm=5) + mov(0, 1) + EXIT
    p += call(KTIME) + EXIT
    return p


# BPF_ATOMIC (5.12; 6.1's JIT, x86-jit.md §8): every op of both sizes over stack bases r10 and
# r7, value registers r1 / r5 (ereg) / r0, disp8 and disp32, and r0 as the base (the cmpxchg
# loop of fetch and/or/xor needs rax, so it must move a base in r0 elsewhere). 5.10 rejects it.
ATOMIC_OPS = (0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1)  # add or and xor, fetch, xchg, cmpxchg
CMPXCHG = 0xf1

def atomic(size, d, s, off, op): return ins(0xc3 | size, d, s, off, op)

def prog_atomic():
    p = prelude()
    p += alu(ALU64, 'mov', 7, 10) + alu(ALU64, 'add', 7, imm=-256)
    for off in range(-8, -257, -8):
        p += stx(DW, 10, 1, off)
    for size in (W, DW):
        for op in ATOMIC_OPS:
            for d, s, off in ((10, 1, -8), (10, 5, -8), (10, 0, -8), (10, 1, -200), (7, 1, 8), (7, 9, 200)):
                # Fetching ops leave an unknown value in the source register; r0 is the compare
                # value of cmpxchg and gets the old value: give both a known scalar again.
                p += mov(s, 0x11) + mov(0, 0x22) + atomic(size, d, s, off, op)
            if op != CMPXCHG:  # cmpxchg would store r0 = the base, a pointer
                p += alu(ALU64, 'mov', 0, 10) + mov(1, 0x33) + atomic(size, 0, 1, -16, op)
                p += alu(ALU64, 'mov', 0, 10) + mov(5, 0x33) + atomic(size, 0, 5, -216, op)
    return p + mov(0, 0) + EXIT

PROGS = dict(jit_alu=prog_alu, jit_muldiv=prog_muldiv, jit_shift=prog_shift, jit_mem=prog_mem,
             jit_jmp=prog_jmp, jit_calls=prog_calls, jit_atomic=prog_atomic)

def write(name, words):
    lines = ['\t.section\tsocket,"ax",@progbits', f'\t.globl\t{name}', f'\t.type\t{name},@function', f'{name}:']
    for w in words:
        lines.append('\t.quad\t0x%016x' % struct.unpack('<Q', w)[0])
    lines += [f'.Lend_{name}:', f'\t.size\t{name}, .Lend_{name}-{name}',
              '\t.section\tlicense,"aw",@progbits', '\t.globl\t_license', '_license:', '\t.asciz\t"GPL"', '']
    with open(os.path.join(HERE, 'src', name + '.s'), 'w') as f:
        f.write(f'# Generated by gen_asm.py; do not edit. {len(words)} slots.\n' + '\n'.join(lines))

if __name__ == '__main__':
    for name, fn in PROGS.items():
        write(name, fn())
