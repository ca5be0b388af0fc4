// The suite's outcomes as text: pretty (for people), JUnit XML (for CI systems: testsuites,
// one testsuite per file and profile, one testcase per case), TAP 13 (with YAML diagnostics)
// and JSON.

import type { CaseOutcome, SuiteSummary } from './types.js';

export const REPORTERS = ['pretty', 'junit', 'tap', 'json'] as const;
export type ReporterName = (typeof REPORTERS)[number];

export function report(name: ReporterName, cases: readonly CaseOutcome[], summary: SuiteSummary): string {
  switch (name) {
    case 'pretty': return prettyReport(cases, summary);
    case 'junit': return junitReport(cases, summary);
    case 'tap': return tapReport(cases);
    case 'json': return JSON.stringify({ summary, cases }, null, 2) + '\n';
  }
}

export const summaryLine = (s: SuiteSummary): string =>
  `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${s.updated ? `, ${s.updated} golden(s) written` : ''} (${(s.ms / 1000).toFixed(1)} s)`;

const indent = (text: string, by: string): string => text.split('\n').map((l) => (l ? by + l : l)).join('\n');

export function prettyReport(cases: readonly CaseOutcome[], summary: SuiteSummary): string {
  const out: string[] = [];
  for (const c of cases) {
    if (c.updated) out.push(`UPDATED ${c.updated}`);
    if (c.status === 'failed') {
      out.push(`FAIL ${c.id}`, indent(c.message ?? '', '  '));
      if (c.details) out.push(indent(c.details, '    '));
    }
  }
  const skipped = cases.filter((c) => c.status === 'skipped');
  // Skips share reasons (no golden for a release): one line per reason, not per case.
  const reasons = new Map<string, number>();
  for (const c of skipped) reasons.set(`${c.file} [${c.profile}]: ${c.message}`, (reasons.get(`${c.file} [${c.profile}]: ${c.message}`) ?? 0) + 1);
  for (const [r, n] of reasons) out.push(`SKIP ${r}${n > 1 ? ` (${n} cases)` : ''}`);
  out.push(summaryLine(summary));
  return out.join('\n') + '\n';
}

// --- JUnit ------------------------------------------------------------------------------------

/** XML text or attribute value; characters XML 1.0 cannot hold at all become U+FFFD. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

function groups(cases: readonly CaseOutcome[]): Map<string, CaseOutcome[]> {
  const m = new Map<string, CaseOutcome[]>();
  for (const c of cases) {
    const k = `${c.file} [${c.profile}]`;
    m.set(k, [...(m.get(k) ?? []), c]);
  }
  return m;
}

export function junitReport(cases: readonly CaseOutcome[], summary: SuiteSummary): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tailjit test" tests="${cases.length}" failures="${summary.failed}" errors="0" skipped="${summary.skipped}" time="${seconds(summary.ms)}">`];
  for (const [name, cs] of groups(cases)) {
    const fails = cs.filter((c) => c.status === 'failed').length;
    const skips = cs.filter((c) => c.status === 'skipped').length;
    const time = cs.reduce((t, c) => t + c.ms, 0);
    out.push(`  <testsuite name="${xmlEscape(name)}" tests="${cs.length}" failures="${fails}" errors="0" skipped="${skips}" time="${seconds(time)}">`);
    for (const c of cs) {
      // classname: the file as a dotted path with the profile, as JUnit viewers group by it.
      const classname = `${c.file.replace(/\.(json|data)$/, '').replace(/[\\/]/g, '.')}.${c.profile}`;
      const head = `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(c.name)}" time="${seconds(c.ms)}"`;
      if (c.status === 'passed') out.push(`${head}/>`);
      else if (c.status === 'skipped') out.push(`${head}>`, `      <skipped message="${xmlEscape(c.message ?? '')}"/>`, '    </testcase>');
      else {
        const body = [c.message ?? '', c.details ?? ''].filter(Boolean).join('\n');
        out.push(`${head}>`, `      <failure message="${xmlEscape(c.message ?? 'failed')}" type="${c.kind}">${xmlEscape(body)}</failure>`, '    </testcase>');
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

// --- TAP 13 -----------------------------------------------------------------------------------

/** A TAP description may not hold `#` (it starts a directive) or a newline. */
const tapText = (s: string): string => s.replace(/#/g, '\\#').replace(/\n/g, ' ');

export function tapReport(cases: readonly CaseOutcome[]): string {
  const out = ['TAP version 13', `1..${cases.length}`];
  cases.forEach((c, i) => {
    const n = i + 1;
    if (c.status === 'passed') out.push(`ok ${n} - ${tapText(c.id)}`);
    else if (c.status === 'skipped') out.push(`ok ${n} - ${tapText(c.id)} # SKIP ${tapText(c.message ?? '')}`);
    else {
      out.push(`not ok ${n} - ${tapText(c.id)}`, '  ---', `  message: ${JSON.stringify(c.message ?? '')}`, `  severity: fail`);
      out.push(`  file: ${JSON.stringify(c.file)}`, `  profile: ${JSON.stringify(c.profile)}`);
      if (c.details) out.push('  details: |-', indent(c.details, '    ').replace(/^$/gm, '    '));
      out.push('  ...');
    }
  });
  return out.join('\n') + '\n';
}
