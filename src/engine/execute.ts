/**
 * `herd run` as one function: load and validate everything, start the embedded target when
 * asked, run the coordinator, build results.json, write it atomically. Returns the results;
 * the CLI only maps them to output and an exit code.
 */
import { join, resolve } from 'node:path';
import * as os from 'node:os';
import { randomBytes } from 'node:crypto';
import { HerdError } from '../errors.js';
import { loadScenario, type LoadedScenario } from '../scenario/load.js';
import type { Overrides } from '../scenario/resolve.js';
import { parseTargetUrl } from '../scenario/target-url.js';
import { spawnEmbeddedTarget, type EmbeddedTarget } from '../target/spawn.js';
import { Coordinator, type SecondEvent } from './coordinator.js';
import { checkReachable } from './reachability.js';
import { buildResults } from '../report/build.js';
import { describeEnvironment } from '../report/environment.js';
import type { Results } from '../report/results-types.js';
import { ensureWritableDir, writeFileAtomic } from '../util/atomic-write.js';
import { mkdirSync } from 'node:fs';

export interface RunRequest {
  scenarioPath: string;
  overrides: Overrides;
  outDir: string;
  workers: number | undefined;
  sourceIps: string[];
  maxHandshakesInFlight: number;
  allowSaturated: boolean;
}

export interface RunHooks {
  /** Called once the run is under way with a function that stops it (first call) or forces it (second). */
  onStart?(stop: (reason: string) => void, info: { runId: string; target: string; devices: number; workers: number }): void;
  onSecond?(ev: SecondEvent): void;
  onNotice?(message: string): void;
}

export interface RunReport {
  results: Results;
  resultsPath: string;
  loaded: LoadedScenario;
}

export const MAX_PACKET_BYTES = 256 * 1024;

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export function defaultWorkers(devices: number): number {
  // One worker per core, but never more workers than make sense for a small fleet.
  return Math.max(1, Math.min(os.availableParallelism(), Math.ceil(devices / 500)));
}

export async function executeRun(req: RunRequest, hooks: RunHooks = {}): Promise<RunReport> {
  const loaded = loadScenario(req.scenarioPath, req.overrides);
  const s = loaded.resolved;
  const outDir = resolve(req.outDir);
  ensureWritableDir(outDir);
  const workers = req.workers ?? defaultWorkers(s.devices);
  const runId = newRunId();

  let embedded: EmbeddedTarget | null = null;
  let host: string;
  let port: number;
  let targetUrl: string;
  if (s.target === 'embedded') {
    embedded = await spawnEmbeddedTarget();
    ({ host, port } = embedded);
    targetUrl = embedded.url;
  } else {
    const t = parseTargetUrl(s.target, req.overrides.target !== undefined ? '--target' : 'target');
    ({ host, port } = t);
    targetUrl = t.url;
    await checkReachable(host, port, targetUrl);
  }

  try {
    const coordinator = new Coordinator({
      runId,
      scenario: s,
      target: { host, port },
      workers,
      shard: { index: 0, count: 1 },
      sourceIps: req.sourceIps,
      maxHandshakesInFlight: req.maxHandshakesInFlight,
      maxPacketBytes: MAX_PACKET_BYTES,
    });
    if (hooks.onSecond) coordinator.on('second', hooks.onSecond);
    let stops = 0;
    hooks.onStart?.(
      (reason) => {
        stops++;
        if (stops === 1) coordinator.abort(reason);
        else coordinator.forceStop();
      },
      { runId, target: targetUrl, devices: s.devices, workers },
    );
    const outcome = await coordinator.run();
    const results = buildResults({
      runId,
      scenario: s,
      thresholds: loaded.thresholds,
      environment: describeEnvironment(),
      outcome,
      target: targetUrl,
      embeddedTarget: embedded !== null,
      allowSaturated: req.allowSaturated,
    });
    const runDir = join(outDir, runId);
    mkdirSync(runDir, { recursive: true });
    const resultsPath = join(runDir, 'results.json');
    writeFileAtomic(resultsPath, JSON.stringify(results, null, 2) + '\n');
    return { results, resultsPath, loaded };
  } finally {
    await embedded?.stop();
  }
}

