// A label-based program builder: instructions go in as values, jumps name a label, and `build()`
// links the labels into slot offsets (the cilium/ebpf habit of a separate link step).
//
//   new ProgramBuilder()
//     .emit(insn(0xb7, 0, 0, 0, 1))         // mov %r0, 1
//     .jump(insn(0x15, 1, 0, 0, 0), 'out')  // jeq %r1, 0, out
//     .emit(insn(0xb7, 0, 0, 0, 2))
//     .label('out')
//     .emit(insn(0x95))
//     .build();

import { Layout, insn as makeInsn, type Insn } from '../isa/insn.js';
import { describe } from '../isa/table.js';
import { AsmError } from './errors.js';

interface Item {
  readonly insn: Insn;
  readonly label?: string;
}

export class ProgramBuilder {
  private readonly items: Item[] = [];
  /** Label name -> index of the instruction it precedes. */
  private readonly labels = new Map<string, number>();

  /** Defines `name` at the next instruction (or at the end, if none follows). */
  label(name: string): this {
    if (this.labels.has(name)) {
      throw new AsmError('asm.duplicate-label', `label '${name}' is already defined`, { insn: this.items.length });
    }
    this.labels.set(name, this.items.length);
    return this;
  }

  emit(...insns: Insn[]): this {
    for (const i of insns) this.items.push({ insn: i });
    return this;
  }

  /** A jump (`ja`, conditional, `ja32`) or `call local` to `label`; its offset is set by `build()`. */
  jump(insn: Insn, label: string): this {
    this.items.push({ insn, label });
    return this;
  }

  /** The program with every label resolved; throws `AsmError` with the instruction index. */
  build(): Insn[] {
    const layout = new Layout(this.items.map((it) => it.insn));
    return this.items.map((it, index) => (it.label === undefined ? it.insn : this.link(it.insn, it.label, index, layout)));
  }

  private link(i: Insn, label: string, index: number, layout: Layout): Insn {
    const at = { insn: layout.slotOf[index] };
    const target = this.labels.get(label);
    if (target === undefined) throw new AsmError('asm.unknown-label', `unknown label '${label}'`, at);
    const delta = layout.slotOf[target] - (layout.slotOf[index] + 1);
    const d = describe(i);
    const shape = d.ok ? d.form.shape : undefined;
    if (shape === 'ja' || shape === 'jcond-imm' || shape === 'jcond-reg') {
      if (delta < -32768 || delta > 32767) {
        throw new AsmError('asm.offset-range', `'${label}' is ${delta} slots away; a jump offset holds -32768..32767`, at);
      }
      return makeInsn(i.code, i.dst, i.src, delta, i.imm, i.immHi);
    }
    if (shape === 'gotol' || shape === 'call-local') return makeInsn(i.code, i.dst, i.src, i.off, delta, i.immHi);
    throw new AsmError('asm.bad-target', `instruction ${index} is not a jump or local call`, at);
  }
}
