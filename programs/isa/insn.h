/* SPDX-License-Identifier: MIT */
/*
 * Raw BPF instructions for inline asm. clang 14 (the compiler of the committed objects) knows
 * no cpu v4 mnemonic and no load-acquire/store-release, so each such instruction is written as
 * its 8 bytes: opcode, dst | src << 4, off (le16), imm (le32).
 */
#ifndef ISA_INSN_H
#define ISA_INSN_H

#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))

#define INSN(code, dst, src, off, imm) \
	".byte " #code ", ((" #src ") << 4) | (" #dst ")\n\t.2byte " #off "\n\t.4byte " #imm "\n\t"

/* BPF_ALU64 | BPF_MOV | BPF_X (bf) and BPF_ALU | BPF_MOV | BPF_X (bc) with off = 8/16/32. */
#define MOVSX64(dst, src, bits) INSN(0xbf, dst, src, bits, 0)
#define MOVSX32(dst, src, bits) INSN(0xbc, dst, src, bits, 0)
/* BPF_DIV / BPF_MOD with off = 1: signed. */
#define SDIV64_X(dst, src) INSN(0x3f, dst, src, 1, 0)
#define SDIV64_K(dst, imm) INSN(0x37, dst, 0, 1, imm)
#define SDIV32_X(dst, src) INSN(0x3c, dst, src, 1, 0)
#define SDIV32_K(dst, imm) INSN(0x34, dst, 0, 1, imm)
#define SMOD64_X(dst, src) INSN(0x9f, dst, src, 1, 0)
#define SMOD64_K(dst, imm) INSN(0x97, dst, 0, 1, imm)
#define SMOD32_X(dst, src) INSN(0x9c, dst, src, 1, 0)
#define SMOD32_K(dst, imm) INSN(0x94, dst, 0, 1, imm)
/* BPF_ALU64 | BPF_END (d7): unconditional byte swap of the low imm bits. */
#define BSWAP(dst, bits) INSN(0xd7, dst, 0, 0, bits)
/* BPF_LDX | BPF_MEMSX | size: sign-extending loads (b 91, h 89, w 81). */
#define LDXSB(dst, src, off) INSN(0x91, dst, src, off, 0)
#define LDXSH(dst, src, off) INSN(0x89, dst, src, off, 0)
#define LDXSW(dst, src, off) INSN(0x81, dst, src, off, 0)
/* BPF_JMP32 | BPF_JA: gotol, the offset in imm. */
#define GOTOL(imm) INSN(0x06, 0, 0, 0, imm)
/* BPF_STX | BPF_ATOMIC | size with BPF_LOAD_ACQ (0x100) / BPF_STORE_REL (0x110), 6.15. */
#define LOAD_ACQ(code, dst, src, off) INSN(code, dst, src, off, 0x100)
#define STORE_REL(code, dst, src, off) INSN(code, dst, src, off, 0x110)
#define ATOMIC_B 0xd3
#define ATOMIC_H 0xcb
#define ATOMIC_W 0xc3
#define ATOMIC_DW 0xdb

#endif
