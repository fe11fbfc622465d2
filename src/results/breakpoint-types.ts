/**
 * breakpoint.json — what `herd breakpoint` found, level by level. Plain JSON data; versioned
 * (semver) like results.json; documented in docs/breakpoint.md. A leaf: every layer may import it. Each level also
 * has its own
 * complete results.json (its `resultsPath`), so every report format works on it.
 */
import type { ThresholdResult } from './types.js';

export type LevelVerdict = 'passed' | 'failed' | 'harness';

/**
 * found: the target failed above `rate` and sustained `rate` (bracket [rate, failedAt]).
 * held-max: every level passed up to maxRate; the breakpoint is above it.
 * below-min: even minRate failed.
 * harness: the harness was the limit at `harnessAt`; `rate` is the best the target showed below it.
 * budget: maxLevels ran out before the bracket narrowed to the resolution.
 * aborted: interrupted (Ctrl-C) before the search was done; `rate` is the best level so far.
 */
export type SearchEnd = 'found' | 'held-max' | 'below-min' | 'harness' | 'budget' | 'aborted';

export const BREAKPOINT_SCHEMA_VERSION = '1.1.0';

/** How a level tipped over, in the words an SRE uses. */
export type TipSignal = 'latency' | 'listen-queue' | 'timeouts' | 'shedding' | 'errors';

export interface TipEvidence {
  signal: TipSignal;
  /** First second (from the run origin) in the measured window where it showed; null = over the level as a whole. */
  firstAtS: number | null;
  detail: string;
}

export interface LevelReport {
  index: number;
  /** The searched quantity: connects/s (connect-rate) or devices held at once (held-devices). */
  rate: number;
  phase: 'step-up' | 'step-down' | 'bisect';
  verdict: LevelVerdict;
  runId: string;
  /** The level's own results.json, relative to breakpoint.json. */
  resultsPath: string;
  /** Seconds from the level's origin: [0, settleS) is settle (excluded), [settleS, endS) is measured. */
  window: { settleS: number; endS: number };
  offeredPerS: number;
  /** Connects that succeeded in the measured window, per second of the measure period. */
  achievedPerS: number;
  /** Attempts that ended in the measured window. */
  ended: { succeeded: number; failed: number; timedOut: number; shed: number };
  /** (failed + timed out) / ended; shed / ended (shed attempts are also counted failed). */
  errorRate: number | null;
  shedRate: number | null;
  connectP50Us: number | null;
  connectP99Us: number | null;
  /** Whole level (settle included): where a SYN retransmit shows. */
  tcpConnectP99Us: number | null;
  stopConditions: ThresholdResult[];
  /** Stop conditions that failed, in the order they are listed. */
  brokenBy: string[];
  /** Every tipping sign seen in the window, earliest first. */
  tipping: TipEvidence[];
  /**
   * limited: the harness decided the level; flagged: the run's saturation judgement flagged it (with or without
   * effect).
   */
  harness: { limited: boolean; flagged: boolean; reasons: string[] };
}

/** The search's own settings (src/run/breakpoint/planner.ts walks them). */
export interface SearchSettings {
  startRate: number;
  factor: number;
  /** Stop when hi − lo ≤ resolution × lo. */
  resolution: number;
  minRate: number;
  maxRate: number;
  maxLevels: number;
}

export interface BreakpointReport {
  schemaVersion: string;
  tool: { name: 'herd'; version: string };
  /** connect-rate: `rate` fields are connects/s. held-devices: they are device counts held at once. */
  mode: 'connect-rate' | 'held-devices';
  /** aborted: interrupted (Ctrl-C); `levels` holds the levels judged before it (since 1.1.0). */
  status: 'completed' | 'aborted';
  abortReason: string | null;
  scenario: string;
  target: string;
  startedAt: string;
  endedAt: string;
  settings: SearchSettings & {
    settleS: number;
    measureS: number;
    drainS: number;
    /** held-devices only: the fixed arrival rate and the hold after the last connect (null for connect-rate). */
    arrivalRate: number | null;
    holdS: number | null;
    stopWhen: { metric: string; expression: string }[];
  };
  levels: LevelReport[];
  outcome: {
    end: SearchEnd;
    /** The highest rate the target sustained (null when none passed). */
    rate: number | null;
    /** The lowest rate above it that failed. */
    failedAt: number | null;
    /** The lowest rate at which the harness, not the target, was the limit. */
    harnessAt: number | null;
    /** At the first failing level: what broke first, and every stop condition that failed. */
    tippedBy: TipSignal | null;
    brokenBy: string[];
    /** One sentence, as printed. */
    headline: string;
    advice: string[];
  };
  thresholds: ThresholdResult[];
  verdict: 'passed' | 'failed' | 'harness-limited' | 'aborted';
  exitCode: number;
}
