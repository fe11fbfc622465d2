/**
 * What the search found, said in one sentence with its evidence (pure): the breakpoint and its
 * bracket, what broke first at the first failing level, or that the harness was the limit and
 * what to change.
 */
import type { NextStep } from './planner.js';
import type { BreakpointReport, LevelReport, TipSignal } from '../../results/breakpoint-types.js';

const SIGN_WORDS: Record<TipSignal, string> = {
  latency: 'a latency knee',
  'listen-queue': 'listen-queue overflow (SYN retransmits)',
  timeouts: 'timeouts',
  shedding: 'load shedding',
  errors: 'errors',
};

type Done = Extract<NextStep, { done: true }>;

export function describeOutcome(
  end: Done,
  levels: readonly LevelReport[],
  workers: number | undefined,
  maxHandshakes = 0,
  unit: '/s' | 'devices' = '/s',
): BreakpointReport['outcome'] {
  const u = unit === '/s' ? '/s' : ' devices';
  const firstFail =
    end.failedAt === null ? undefined : levels.find((l) => l.rate === end.failedAt && l.verdict === 'failed');
  const tippedBy = firstFail?.tipping[0]?.signal ?? null;
  const brokenBy = firstFail?.brokenBy ?? [];
  const advice: string[] = [];
  const how = (): string => {
    if (!firstFail) return '';
    const signs = firstFail.tipping.map((t) => SIGN_WORDS[t.signal]);
    const order = signs.length > 1 ? ` (then ${signs.slice(1).join(', ')})` : '';
    return `; at ${firstFail.rate}${u} it tipped by ${tippedBy ? SIGN_WORDS[tippedBy] : 'a stop condition'}${order} — broke ${brokenBy.join(', ')}`;
  };
  let headline: string;
  switch (end.end) {
    case 'found':
      headline = `breakpoint ${end.rate}${u}: the target sustained ${end.rate}${u} and failed at ${end.failedAt}${u}${how()}`;
      break;
    case 'held-max':
      headline = `no breakpoint up to ${end.rate}${u}: every level passed (raise breakpoint.${unit === '/s' ? 'maxRate' : 'maxDevices'} to search higher)`;
      break;
    case 'below-min':
      headline = `no sustainable rate: even ${end.failedAt}${u} failed${how()}`;
      break;
    case 'budget':
      headline = `search stopped after ${levels.length} levels: sustained ${end.rate ?? 'nothing'}${end.rate !== null ? u : ''}${end.failedAt !== null ? `, failed at ${end.failedAt}${u}` : ''} (raise breakpoint.maxLevels)${how()}`;
      break;
    case 'aborted':
      headline = `search stopped before it was done: sustained ${end.rate ?? 'nothing'}${end.rate !== null ? u : ''}`;
      break;
    case 'harness': {
      const at = levels.find((l) => l.rate === end.harnessAt && l.verdict === 'harness');
      headline = `the harness was the limit at ${end.harnessAt}${u}, not the target${end.rate !== null ? `: the target sustained at least ${end.rate}${u}` : ''}`;
      for (const r of at?.harness.reasons ?? []) advice.push(r);
      break;
    }
  }
  if (end.harnessAt !== null) {
    const more = workers === undefined ? 'more --workers' : `more than ${workers} --workers`;
    advice.push(
      `to search past ${end.harnessAt}${u}: run with ${more} (up to the cores free beside the target), spread sources with --source-ips, or shard the load over machines (--shard with --start-at)${maxHandshakes > 0 ? `; lift --max-handshakes ${maxHandshakes}, which holds the harness back` : ''}`,
    );
  }
  return {
    end: end.end,
    rate: end.rate,
    failedAt: end.failedAt,
    harnessAt: end.harnessAt,
    tippedBy,
    brokenBy,
    headline,
    advice,
  };
}

/** The search was interrupted: what the levels judged so far show, said as no more than that. */
export function abortedOutcome(
  levels: readonly LevelReport[],
  reason: string,
  unit: '/s' | 'devices' = '/s',
): BreakpointReport['outcome'] {
  const u = unit === '/s' ? '/s' : ' devices';
  const lowest = (xs: number[]): number | null => (xs.length === 0 ? null : Math.min(...xs));
  const passed = levels.filter((l) => l.verdict === 'passed').map((l) => l.rate);
  const rate = passed.length === 0 ? null : Math.max(...passed);
  const failedAt = lowest(
    levels.filter((l) => l.verdict === 'failed' && (rate === null || l.rate > rate)).map((l) => l.rate),
  );
  const harnessAt = lowest(levels.filter((l) => l.verdict === 'harness').map((l) => l.rate));
  const so = rate === null ? '' : `: sustained ${rate}${u} so far`;
  const fail = failedAt === null ? '' : `, failed at ${failedAt}${u}`;
  const headline = `search ${reason} after ${levels.length} level${levels.length === 1 ? '' : 's'}${so}${fail} (not a breakpoint)`;
  return { end: 'aborted', rate, failedAt, harnessAt, tippedBy: null, brokenBy: [], headline, advice: [] };
}
