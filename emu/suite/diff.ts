// A line diff for golden files: the LCS of two line lists (Myers' O(ND) greedy search, enough
// for listings of a few thousand lines that differ in a few), printed as a unified diff.

export type Edit = { readonly op: 'same' | 'del' | 'add'; readonly line: string; readonly a: number; readonly b: number };

/** The shortest edit script turning `a` into `b`; `a`/`b` are 0-based indices into each side. */
export function diffLines(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length, m = b.length, max = n + m;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = max === 0;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[max + k - 1] < v[max + k + 1]) ? v[max + k + 1] : v[max + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      v[max + k] = x;
      if (x >= n && y >= m) { found = true; break; }
    }
  }
  // Walk the saved frontiers back from (n, m) to (0, 0).
  const edits: Edit[] = [];
  let x = n, y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[max + k - 1] < vd[max + k + 1]) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[max + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) { x--; y--; edits.push({ op: 'same', line: a[x], a: x, b: y }); }
    if (d === 0) break;
    if (x === prevX) { y--; edits.push({ op: 'add', line: b[y], a: x, b: y }); }
    else { x--; edits.push({ op: 'del', line: a[x], a: x, b: y }); }
  }
  return edits.reverse();
}

export interface Hunk {
  readonly aStart: number;
  readonly bStart: number;
  readonly edits: readonly Edit[];
}

/** Changed regions with `context` unchanged lines around each, overlapping ones merged. */
export function hunks(edits: readonly Edit[], context = 3): Hunk[] {
  const changed = edits.flatMap((e, i) => (e.op === 'same' ? [] : [i]));
  const out: Hunk[] = [];
  let i = 0;
  while (i < changed.length) {
    const from = Math.max(0, changed[i] - context);
    let to = changed[i];
    while (i + 1 < changed.length && changed[i + 1] - to <= 2 * context) to = changed[++i];
    i++;
    const slice = edits.slice(from, Math.min(edits.length, to + context + 1));
    out.push({ aStart: slice[0].a, bStart: slice[0].b, edits: slice });
  }
  return out;
}

/** `--- a`, `+++ b`, then `@@ -l,n +l,n @@` hunks; empty when the sides are equal. */
export function unifiedDiff(a: readonly string[], b: readonly string[], aName: string, bName: string, context = 3): string {
  const hs = hunks(diffLines(a, b), context);
  if (hs.length === 0) return '';
  const lines = [`--- ${aName}`, `+++ ${bName}`];
  for (const h of hs) {
    const na = h.edits.filter((e) => e.op !== 'add').length;
    const nb = h.edits.filter((e) => e.op !== 'del').length;
    lines.push(`@@ -${na ? h.aStart + 1 : h.aStart},${na} +${nb ? h.bStart + 1 : h.bStart},${nb} @@`);
    for (const e of h.edits) lines.push(`${e.op === 'same' ? ' ' : e.op === 'del' ? '-' : '+'}${e.line}`);
  }
  return lines.join('\n') + '\n';
}
