/**
 * Worker process entry. Builds the plan itself from the resolved scenario (pure and
 * deterministic, so nothing large crosses IPC), takes its exact slice, waits for the shared
 * origin, runs, and reports deltas every second.
 */
import { buildPlan, idsFor, type Plan } from '../plan/plan.js';
import { clockFromOrigin, engineClock } from '../util/clock.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';
import { Runner } from './runner.js';

function send(msg: FromWorker): void {
  process.send?.(msg);
}

let init: WorkerInit | null = null;
let prepared: { plan: Plan; ids: Uint32Array } | null = null;
let runner: Runner | null = null;
let stopRequested = false;

process.on('message', (raw: unknown) => {
  const msg = raw as ToWorker;
  try {
    if (msg.type === 'init') {
      init = msg;
      const plan = buildPlan(msg.scenario);
      const ids = idsFor(plan.devices, msg.shard, msg.worker);
      prepared = { plan, ids };
      send({ type: 'ready', devices: ids.length });
    } else if (msg.type === 'go') {
      if (init === null || prepared === null) throw new Error('go before init');
      const { plan, ids } = prepared;
      const r = new Runner({
        runId: init.runId,
        workerIndex: init.worker.index,
        scenario: init.scenario,
        plan,
        ids,
        targets: init.targets,
        sourceIps: init.sourceIps,
        maxHandshakesInFlight: init.maxHandshakesInFlight,
        maxPacketBytes: init.maxPacketBytes,
        clock: engineClock(clockFromOrigin(BigInt(msg.originNs))),
        emit: (delta, health) => send({ type: 'metrics', delta, health }),
      });
      runner = r;
      if (stopRequested) r.stop();
      void r.run().then((end) => {
        send({ type: 'done', delta: end.delta, health: end.health, planned: ids.length, inFlightAtEnd: end.inFlightAtEnd, delivery: end.delivery });
        // Let IPC drain, then leave on our own.
        process.disconnect?.();
      });
    } else if (msg.type === 'stop') {
      stopRequested = true;
      runner?.stop();
    }
  } catch (err) {
    send({ type: 'fatal', message: err instanceof Error ? err.stack ?? err.message : String(err) });
    process.exitCode = 3;
    process.disconnect?.();
  }
});

// The coordinator going away must never leave an orphan worker behind.
process.on('disconnect', () => {
  if (runner !== null) runner.stop();
  setTimeout(() => process.exit(process.exitCode ?? 0), 5_000).unref();
});
// Ctrl-C reaches the whole process group; the coordinator decides how to stop.
process.on('SIGINT', () => {});
