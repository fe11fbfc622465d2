/**
 * Worker process entry. Builds the plan itself from the resolved scenario (pure and
 * deterministic, so nothing large crosses IPC), takes its exact slice, waits for the shared
 * origin, runs, and reports deltas every second.
 *
 * Shutdown cannot race: the worker sends 'done' and stays until the coordinator answers 'bye',
 * so its final results are in the coordinator's hands before it leaves (docs/adr/0003).
 */
import { buildPlan, idsFor, type Plan } from '../plan/plan.js';
import { expandTemplate } from '../scenario/template.js';
import { clockFromOrigin, engineClock } from '../util/clock.js';
import { hostNamesOf } from '../util/target-url.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';
import { prebuildOwn, prepareKinds } from './device-table.js';
import { warmNames } from './warm-names.js';
import { Runner } from './runner.js';
import { workerRunnerOptions, type PreparedKinds } from './runner-options.js';
import { warmConnectPath, type WarmUpResult } from './warm-up.js';
import { warmEngine, warmSpecFor, type WarmEngineSpec } from './warm-engine.js';

function send(msg: FromWorker): void {
  process.send?.(msg);
}

let init: WorkerInit | null = null;
let prepared: { plan: Plan; ids: Uint32Array; kinds: PreparedKinds } | null = null;
let runner: Runner | null = null;
let stopRequested = false;
/** The warm-up a 'warm' message started before 'init' (the worker was forked while the target started). */
let warming: Promise<WarmUpResult> | null = null;

process.on('message', (raw: unknown) => {
  const msg = raw as ToWorker;
  try {
    if (msg.type === 'warm') {
      warming ??= warm(msg.engine ?? null);
      // Failure is reported at 'init', where the coordinator listens for it.
      warming.catch(() => {});
    } else if (msg.type === 'init') {
      init = msg;
      const plan = buildPlan(msg.scenario);
      const ids = idsFor(plan.devices, msg.shard, msg.worker);
      // Each device's CONNECT is built now, before the origin, not during the storm.
      const kinds = prepareKinds(
        { scenario: msg.scenario, runId: msg.runId, workerIndex: msg.worker.index },
        expandTemplate,
      );
      prebuildOwn(kinds, ids, plan.cohortOf);
      prepared = { plan, ids, kinds };
      // The origin is placed only once every worker is ready, so warming here keeps cold code
      // out of the first second of the run.
      if (warming === null && msg.warmUp && ids.length > 0) warming = warm(warmSpecFor(msg));
      if (warming !== null && msg.warmUp) {
        const names = hostNamesOf([...msg.targets.flat(), ...msg.scenario.cohorts.flatMap((c) => c.targets ?? [])]);
        warming = warming.then(async (w) => (await warmNames(names, msg.sourceIps), w));
      }
      if (warming !== null) {
        void warming.then(
          (w) => send({ type: 'ready', devices: ids.length, warmUp: w }),
          (err: unknown) =>
            send({ type: 'fatal', message: `warm-up failed: ${err instanceof Error ? err.message : String(err)}` }),
        );
      } else send({ type: 'ready', devices: ids.length, warmUp: null });
    } else if (msg.type === 'go') {
      if (init === null || prepared === null) throw new Error('go before init');
      const { plan, ids, kinds } = prepared;
      const r = new Runner(
        workerRunnerOptions({
          runId: init.runId,
          workerIndex: init.worker.index,
          workerCount: init.worker.count,
          scenario: init.scenario,
          plan,
          ids,
          targets: init.targets,
          sourceIps: init.sourceIps,
          shardIndex: init.shard.index,
          shardCount: init.shard.count,
          maxHandshakesInFlight: init.maxHandshakesInFlight,
          maxPacketBytes: init.maxPacketBytes,
          clock: engineClock(clockFromOrigin(BigInt(msg.originNs))),
          listeners: [],
          emit: (delta, health) => send({ type: 'metrics', delta, health }),
          preparedKinds: kinds,
        }),
      );
      runner = r;
      if (stopRequested) r.stop();
      void r.run().then((end) => {
        send({
          type: 'done',
          delta: end.delta,
          health: end.health,
          planned: ids.length,
          inFlightAtEnd: end.inFlightAtEnd,
          delivery: end.delivery,
          names: end.names,
        });
        // Stay until the coordinator says it has the final message ('bye'); leaving right after
        // send() can lose it, or race the coordinator's exit handling.
      });
    } else if (msg.type === 'stop') {
      stopRequested = true;
      runner?.stop();
    } else if (msg.type === 'bye') {
      process.disconnect?.();
    }
  } catch (err) {
    process.exitCode = 3;
    // Disconnect only once the message is written: disconnecting with messages queued loses them.
    process.send?.(
      { type: 'fatal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromWorker,
      () => process.disconnect?.(),
    );
  }
});

/**
 * The warm-up: the run's own engine when the spec is known (warm-engine.ts), else — or when the run
 * has no MQTT cohort to warm it with — the JavaScript MQTT connect path (warm-up.ts).
 */
async function warm(spec: WarmEngineSpec | null): Promise<WarmUpResult> {
  const e = spec === null ? null : await warmEngine(spec);
  return e ?? warmConnectPath();
}

// The coordinator going away must never leave an orphan worker behind.
process.on('disconnect', () => {
  if (runner !== null) runner.stop();
  setTimeout(() => process.exit(process.exitCode ?? 0), 5_000).unref();
});
// Ctrl-C reaches the whole process group; the coordinator decides how to stop.
process.on('SIGINT', () => {});
