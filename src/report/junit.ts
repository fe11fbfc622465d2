/**
 * JUnit XML for CI pages (pure): each threshold is a test case, plus one for the accounting check,
 * one for harness saturation and one for the run completing. A failing case carries the observed
 * value against the expression, so the CI page says why without opening results.json.
 */
import type { Results } from '../results/types.js';
import { engineText, failedThresholdLines, runFacts, saturationLines } from './facts.js';

export interface JunitCase {
  classname: string;
  name: string;
  /** Failure message, or null when the case passed. */
  failure: string | null;
  /** Longer text shown under the case. */
  detail: string;
}

/** Escapes text for XML attribute values and element content; drops characters XML 1.0 forbids. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function junitCases(r: Results): JunitCase[] {
  const cases: JunitCase[] = r.thresholds.map((t) => ({
    classname: 'herd.thresholds',
    name: `${t.metric}: ${t.expression}`,
    failure: t.passed
      ? null
      : t.observed === null
        ? `${t.metric}: no samples, so "${t.expression}" cannot hold`
        : `${t.metric}: observed ${t.observedText}, expected ${t.expression}`,
    detail: `observed ${t.observedText}`,
  }));
  cases.push({
    classname: 'herd.run',
    name: 'every planned attempt is accounted for',
    failure: r.accounting.balanced ? null : `accounting mismatch: ${r.accounting.detail}`,
    detail: r.accounting.detail,
  });
  const sat = saturationLines(r);
  const decided = r.health.affectsVerdict && !r.run.allowSaturated;
  cases.push({
    classname: 'herd.run',
    name: 'the harness did not decide the verdict',
    failure: decided
      ? `${sat?.title ?? 'the harness was saturated'} ${[...r.health.reasons, ...r.health.effects].join('; ')}`
      : null,
    detail: sat ? [sat.title, ...sat.lines].join('\n') : 'no saturation signs in any worker',
  });
  cases.push({
    classname: 'herd.run',
    name: 'the run completed',
    failure: r.run.status === 'aborted' ? `aborted: ${r.run.abortReason ?? 'interrupted'}` : null,
    detail: `status ${r.run.status}, ${(r.run.durationMs / 1000).toFixed(1)}s`,
  });
  return cases;
}

export function renderJunit(r: Results): string {
  const cases = junitCases(r);
  const failures = cases.filter((c) => c.failure !== null).length;
  const seconds = (r.run.durationMs / 1000).toFixed(3);
  const suite = `herd.${r.scenario.name}`;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="herd" tests="${cases.length}" failures="${failures}" errors="0" time="${seconds}">`);
  out.push(
    `  <testsuite name="${xmlEscape(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" ` +
      `time="${seconds}" timestamp="${xmlEscape(r.run.startedAt)}" hostname="herd">`,
  );
  out.push('    <properties>');
  const f = runFacts(r);
  const failed = failedThresholdLines(r);
  const sat = saturationLines(r);
  const props: [string, string][] = [
    ['run.id', r.run.id],
    ['run.verdict', r.run.verdict],
    ['run.exitCode', String(r.run.exitCode)],
    // Why first: the thresholds that failed, then the harness's note on itself.
    ['run.failedThresholds', failed.length === 0 ? 'none' : failed.join('; ')],
    ['run.harness', sat === null ? 'no saturation signs in any worker' : [sat.title, ...sat.lines].join(' ')],
    ['run.allowSaturated', String(r.run.allowSaturated)],
    ['run.engine', engineText(r)?.replace(/^engine /, '') ?? 'not recorded'],
    ['target', f.target],
    ['devices', String(r.scenario.devices)],
    ['herd.version', r.tool.version],
    ['attempts', f.success],
    ['connects', f.connectFailures],
    ['errors.rate', f.errorsRate],
    ['sessions', f.sessionsLost],
    ['peaks', f.peaks],
    ['shedding', f.shedding ?? 'none'],
    ...f.outages.map((o, i): [string, string] => [`outage.${i + 1}`, o]),
  ];
  for (const [k, v] of props) out.push(`      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`);
  out.push('    </properties>');
  for (const c of cases) {
    const open = `    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="0"`;
    if (c.failure === null) {
      out.push(`${open}>`, `      <system-out>${xmlEscape(c.detail)}</system-out>`, '    </testcase>');
    } else {
      out.push(
        `${open}>`,
        `      <failure message="${xmlEscape(c.failure)}" type="${c.classname === 'herd.thresholds' ? 'threshold' : 'run'}">${xmlEscape(c.detail)}</failure>`,
        '    </testcase>',
      );
    }
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}
