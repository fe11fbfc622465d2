/**
 * What one breakpoint level runs: a scenario derived from the user's (fresh devices, no retries,
 * the level's rate or device count), written under levels/, and the `herd run` request for it.
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { RunRequest } from './deps.js';

export type LevelShape =
  | { mode: 'connect-rate'; settleS: number; measureS: number; drainS: number }
  | { mode: 'held-devices'; arrivalRate: number; holdS: number; drainS: number };

/**
 * The level's scenario: the user's devices and target, fresh devices, no retries. connect-rate:
 * a settle and a measure wave at `value` connects/s. held-devices: `value` devices arriving at
 * the fixed rate, all held for holdS.
 */
export function levelScenario(
  data: Record<string, unknown>,
  value: number,
  shape: LevelShape,
  index: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  delete out.breakpoint;
  delete out.duration;
  delete out.thresholds;
  delete out.$schema;
  // Each level asks about first attempts; retry amplification is another scenario's question.
  out.reconnect = { policy: 'none' };
  if (Array.isArray(data.cohorts))
    out.cohorts = (data.cohorts as Record<string, unknown>[]).map(({ reconnect: _r, ...c }) => c);
  if (shape.mode === 'held-devices') {
    out.name = `${String(data.name)} level ${index + 1} holding ${value} devices`;
    out.devices = value;
    out.waves = [
      { type: 'ramp', name: 'connect', devices: value, over: `${Math.round((value / shape.arrivalRate) * 1000)}ms` },
    ];
    out.hold = `${Math.round((shape.holdS + shape.drainS) * 1000)}ms`;
    return out;
  }
  const settle = Math.round(value * shape.settleS);
  const measure = Math.round(value * shape.measureS);
  out.name = `${String(data.name)} level ${index + 1} at ${value}/s`;
  out.devices = settle + measure;
  out.waves = [
    { type: 'rate', name: 'settle', rate: value, over: `${shape.settleS}s` },
    { type: 'rate', name: 'measure', rate: value, over: `${shape.measureS}s` },
  ];
  out.hold = `${Math.round(shape.drainS * 1000)}ms`;
  return out;
}

/** Writes level `index`'s scenario into levelsDir and returns the `herd run` request that runs it. */
export function prepareLevelRun(
  data: Record<string, unknown>,
  value: number,
  shape: LevelShape,
  index: number,
  levelsDir: string,
  req: {
    cwd?: string;
    overrides: RunRequest['overrides'];
    run: Pick<RunRequest, 'workers' | 'sourceIps' | 'maxHandshakesInFlight' | 'skipPreflight' | 'native'>;
  },
): RunRequest {
  const unit = shape.mode === 'held-devices' ? 'devices' : 'per-s';
  const scenarioPath = join(levelsDir, `${String(index + 1).padStart(2, '0')}-${value}${unit}.yaml`);
  writeFileAtomic(scenarioPath, stringify(levelScenario(data, value, shape, index)));
  return {
    scenarioPath,
    ...(req.cwd === undefined ? {} : { cwd: req.cwd }),
    overrides: req.overrides,
    outDir: levelsDir,
    workers: req.run.workers,
    sourceIps: req.run.sourceIps,
    maxHandshakesInFlight: req.run.maxHandshakesInFlight,
    // The level is judged here, saturation included: a saturated level is a harness-limited level.
    allowSaturated: true,
    shard: { index: 0, count: 1 },
    startAtMs: null,
    onWorkerFailure: 'abort',
    skipPreflight: req.run.skipPreflight,
    ...(req.run.native !== undefined ? { native: req.run.native } : {}),
    metrics: null,
    webhookSink: null,
    stepSummaryPath: null,
  };
}
