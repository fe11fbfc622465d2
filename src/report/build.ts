/** Assembles results.json from a run's outcome (pure apart from the inputs it is given). */
import type { RunOutcome } from '../engine/coordinator.js';
import { assessSaturation } from '../engine/saturation.js';
import type { ResolvedScenario } from '../scenario/resolve.js';
import { evaluateThresholds } from '../thresholds/evaluate.js';
import type { Threshold } from '../thresholds/parse.js';
import { EXIT } from '../errors.js';
import { HERD_VERSION } from '../version.js';
import { RESULTS_SCHEMA_VERSION, type Attempts, type Environment, type Results } from './results-types.js';

export interface BuildInput {
  runId: string;
  scenario: ResolvedScenario;
  thresholds: readonly Threshold[];
  environment: Environment;
  outcome: RunOutcome;
  target: string;
  embeddedTarget: boolean;
  allowSaturated: boolean;
}

export function checkAccounting(a: Attempts): { balanced: boolean; detail: string } {
  const accounted = a.succeeded + a.failed + a.timedOut + a.dropped + a.inFlightAtEnd;
  const startedOk = a.started === a.succeeded + a.failed + a.timedOut + a.inFlightAtEnd;
  const balanced = accounted === a.planned && startedOk;
  const detail =
    `planned ${a.planned} = succeeded ${a.succeeded} + failed ${a.failed} + timed out ${a.timedOut}` +
    ` + dropped ${a.dropped} + in flight ${a.inFlightAtEnd}` +
    (balanced ? '' : ` → MISMATCH (accounted ${accounted}, started ${a.started})`);
  return { balanced, detail };
}

export function buildResults(i: BuildInput): Results {
  const { outcome } = i;
  const t = outcome.aggregate.totals;
  const attempts: Attempts = {
    planned: outcome.planned,
    started: t.started,
    succeeded: t.succeeded,
    failed: t.failed,
    timedOut: t.timedOut,
    dropped: t.dropped,
    inFlightAtEnd: outcome.inFlightAtEnd,
  };
  const errors = outcome.aggregate.errorList();
  const saturation = assessSaturation(outcome.healthSamples, errors);
  const accounting = checkAccounting(attempts);
  const aborted = outcome.abort !== null;
  const partial: Omit<Results, 'thresholds'> = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'herd', version: HERD_VERSION },
    run: {
      id: i.runId,
      status: aborted ? 'aborted' : 'completed',
      verdict: 'passed',
      exitCode: 0,
      startedAt: new Date(outcome.startedAtMs).toISOString(),
      endedAt: new Date(outcome.endedAtMs).toISOString(),
      abortedAt: aborted ? new Date(outcome.abort?.atMs ?? outcome.endedAtMs).toISOString() : null,
      abortReason: outcome.abort?.reason ?? null,
      durationMs: Math.max(0, outcome.endedAtMs - outcome.startedAtMs),
      workers: outcome.workers.length,
      target: i.target,
      embeddedTarget: i.embeddedTarget,
    },
    scenario: i.scenario,
    environment: i.environment,
    attempts,
    accounting,
    latency: outcome.aggregate.latency(),
    errors,
    timeline: { bucketMs: 1000, buckets: outcome.aggregate.timeline() },
    health: { saturated: saturation.saturated, reasons: saturation.reasons, workers: outcome.workers },
  };
  const thresholds = evaluateThresholds(i.thresholds, partial);
  const thresholdsPassed = thresholds.every((x) => x.passed);
  let exitCode: number = EXIT.ok;
  if (aborted) exitCode = outcome.abort?.kind === 'failure' ? EXIT.runFailed : EXIT.interrupted;
  else if (!accounting.balanced || (saturation.saturated && !i.allowSaturated)) exitCode = EXIT.runFailed;
  else if (!thresholdsPassed) exitCode = EXIT.thresholdFailed;
  const verdict = thresholdsPassed && accounting.balanced && !aborted && (!saturation.saturated || i.allowSaturated) ? 'passed' : 'failed';
  return { ...partial, run: { ...partial.run, verdict, exitCode }, thresholds };
}
