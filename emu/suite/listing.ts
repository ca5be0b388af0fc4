// The tailjit-written golden of a scenario: every program of its object as the modeled kernel
// loads it (before any step), each function's annotated, address-normalized disassembly, one
// instruction a line, with the C source line (BTF line_info) above the BPF instructions it
// covers. Programs the kernel refuses appear as one line with the refusal, so a change of
// verdict shows in review too.

import { formatListing, type ListingOptions } from '../../src/jit/index.js';
import { loadObjectFile } from '../../src/elf/index.js';
import type { Profile } from '../../src/profile/index.js';
import type { LineInfo } from '../../src/elf/types.js';
import { Machine } from '../harness/machine.js';
import type { LoadedProgram } from '../harness/program.js';

/** `;; FILE:LINE  TEXT` — above the first BPF instruction of a source line. */
export const SOURCE_PREFIX = ';; ';

/** `inspect` sees the loaded machine and the object's program names before the listing is made. */
export function scenarioListing(objectPath: string, profile: Profile, inspect?: (machine: Machine, programs: readonly string[]) => void): string {
  const obj = loadObjectFile(objectPath);
  const machine = new Machine({ profile });
  try {
    machine.loadObject(obj);
    inspect?.(machine, obj.programs.map((s) => s.name));
    const out: string[] = [`; ${profile.name}, ${profile.releaseString}`];
    for (const spec of obj.programs) {
      const failure = machine.failures.get(spec.name);
      if (failure) {
        out.push('', `; program ${spec.name}: not loaded: ${failure.code}: ${failure.message}`);
        continue;
      }
      const p = machine.program(spec.name);
      out.push('', `; program ${p.name} (section ${p.section ?? '-'}, type ${p.type})`, ...programLines(machine, p));
    }
    return out.join('\n') + '\n';
  } finally {
    machine.close();
  }
}

function programLines(machine: Machine, p: LoadedProgram): string[] {
  // The images as the JIT wrote them: slots libbpf filled at load are masked rel32s anyway.
  const text = formatListing(p.jit, p.verified, listingOptions(machine));
  return withSourceLines(text.trimEnd().split('\n'), p.verified.lineInfo ?? []);
}

function listingOptions(machine: Machine): ListingOptions {
  const kernel = new Map<bigint, string>();
  for (const [name, at] of machine.kernel.symbolTable) kernel.set(at, name);
  const progs: { begin: bigint; end: bigint; name: string }[] = [];
  for (const p of machine.programs.values()) {
    for (const f of p.jit.funcs) progs.push({ begin: f.address, end: f.address + BigInt(f.image.length), name: f.index === 0 ? p.name : `${p.name}/${f.name}` });
  }
  // A map's struct by its start only; an array's values (global data) by name and offset.
  const maps: { begin: bigint; end: bigint; name: string }[] = [];
  for (const m of machine.kernel.maps) {
    maps.push({ begin: m.address, end: m.address + 1n, name: `map ${m.name}` });
    if (m.kind === 'array') maps.push({ begin: m.valueAddress, end: m.valueAddress + BigInt(m.elemSize * m.spec.maxEntries), name: `${m.name} value` });
  }
  const named = (a: bigint, r: { begin: bigint; name: string }): string => (a === r.begin ? r.name : `${r.name}+0x${(a - r.begin).toString(16)}`);
  return {
    normalized: true,
    bpfCallBase: machine.kernel.symbol('__bpf_call_base'),
    symbolize: (a) => {
      const k = kernel.get(a);
      if (k !== undefined) return k;
      const r = [...progs, ...maps].find((x) => a >= x.begin && a < x.end);
      return r && named(a, r);
    },
  };
}

const BPF_LINE = /^; (\d+): /;

/** Inserts the source line before the BPF instruction at each line_info record's slot. */
export function withSourceLines(lines: readonly string[], lineInfo: readonly LineInfo[]): string[] {
  const bySlot = new Map<number, LineInfo>();
  for (const l of lineInfo) bySlot.set(l.insnOff, l);
  let last = '';
  return lines.flatMap((line) => {
    if (line.startsWith('; func ')) last = '';
    const m = BPF_LINE.exec(line);
    const l = m ? bySlot.get(Number(m[1])) : undefined;
    if (!l) return [line];
    // Records differ by column too; one line of C is shown once per run of instructions.
    const text = `${SOURCE_PREFIX}${l.file.replace(/^\.\//, '')}:${l.line}  ${l.text.trim()}`;
    if (text === last) return [line];
    last = text;
    return [text, line];
  });
}

/** Where a listing line is: the program, function, BPF instruction and source line above it. */
export interface ListingPlace {
  readonly func?: string;
  readonly bpf?: string;
  readonly source?: string;
}

export function placeOf(lines: readonly string[], index: number): ListingPlace {
  let prog: string | undefined, func: string | undefined, bpf: string | undefined, source: string | undefined;
  for (let i = Math.min(index, lines.length - 1); i >= 0; i--) {
    const l = lines[i];
    const p = /^; program (\S+)/.exec(l);
    if (p) { prog = p[1]; break; }
    if (func !== undefined) continue;
    const f = /^; func \d+ (\S+):/.exec(l);
    if (f) func = f[1];
    else if (bpf === undefined && BPF_LINE.test(l)) bpf = l.slice(2);
    else if (bpf === undefined && l === '; prologue') bpf = 'prologue';
    else if (source === undefined && bpf !== undefined && l.startsWith(SOURCE_PREFIX)) source = l.slice(SOURCE_PREFIX.length);
  }
  const name = prog && func ? (func === prog ? prog : `${prog}/${func}`) : func ?? prog;
  return { ...(name ? { func: name } : {}), ...(bpf ? { bpf } : {}), ...(source ? { source } : {}) };
}
