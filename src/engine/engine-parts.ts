/**
 * Builds one worker's engine: the recorder, the device table, the fleet, the scheduler, and every
 * part that reacts to a session's life, registered here — the one place — in the order they hear of
 * it (session-life.ts; the adapters are in session-listeners.ts). A feature that reacts to attempts,
 * connects, losses or ticks is one more part and one more listener here, plus an event kind if it
 * has timed work; runner.ts, which keeps the attempt, the tick and the teardown, does not change.
 *
 * The order is part of the accounting: the fleet's gauges move first (the recorder's per-second
 * gauges and the handshake cap read them); what an attempt measured is recorded before anything
 * reacts to its outcome; a backoff restart comes before the reconnect policy reads the backoff;
 * what follows a session's end (the policy, a churn's reconnect) comes last.
 */
import { Recorder } from '../metrics/recorder.js';
import { expandTemplate } from '../scenario/template.js';
import { DeviceTable } from './device-table.js';
import { Emitter } from './emitter.js';
import { EV_DOWNLINK, EV_OUTAGE, EV_PUBLISH, EV_REQUEST } from './event-heap.js';
import { FleetSide, OutageSide, SchedulerSide, type RunnerSide } from './engine-hosts.js';
import { Fleet } from './fleet.js';
import { HealthMonitor } from './health.js';
import { Messaging } from './messaging.js';
import { OutagePlayer } from './outages.js';
import type { RunnerOptions } from './runner-options.js';
import { Scheduler, type PreciseWake } from './scheduler.js';
import { SessionLife, type RunKept, type SessionListener } from './session-life.js';
import * as on from './session-listeners.js';
import { sourcePorts } from './source-port-listener.js';
import { DeviceSteering } from './steering-state.js';

export type { RunnerSide };

export interface Engine {
  readonly rec: Recorder;
  readonly dev: DeviceTable;
  readonly fleet: Fleet;
  readonly scheduler: Scheduler;
  /** Tells every session listener, in order. */
  readonly life: SessionLife;
  readonly out: Emitter;
}

export function buildEngine(o: RunnerOptions, runner: RunnerSide, precise?: PreciseWake): Engine {
  const rec = new Recorder(o.scenario.cohorts.map((c) => c.name));
  const out = new Emitter(rec, o.health ?? new HealthMonitor(), o);
  const dev = new DeviceTable(o, expandTemplate);
  const fleetSide = new FleetSide(dev, rec, runner);
  const fleet = new Fleet(o.ids.length, fleetSide);
  const side = new SchedulerSide(fleet, dev, runner);
  const scheduler = new Scheduler(
    {
      clock: o.clock,
      slots: o.ids.length,
      plannedAtUs: (slot) => o.plan.connectAtUs[o.ids[slot] as number] as number,
      churn: dev.churnSchedule(),
      maxHandshakesInFlight: o.maxHandshakesInFlight,
      precise,
    },
    side,
  );
  fleetSide.scheduler = scheduler;
  const steering = new DeviceSteering(o.scenario, o.targets, rec, dev);
  const messaging = newMessaging(o, rec, dev, scheduler, runner, fleet);
  const observed = o.scenario.observedOutages;
  const outages = new OutagePlayer(new OutageSide(dev, fleet, rec, o.plan, observed, o.clock, runner));
  side.outages = outages;
  const events = side.events;
  const life = new SessionLife([
    sourcePorts(o),
    on.fleetMoves(fleet),
    on.connectRecord(rec, dev),
    // Before any listener that may open the slot again: the outcome is the attempt's that just ended.
    namesListener(dev),
    on.targetLosses(outages, rec, dev),
    on.backoffRestart(steering),
    on.outageRecovery(outages, dev),
    on.failover(dev),
    on.keepalive(o.scenario, dev, fleet, steering, o.clock, runner),
    on.offlineGate(outages, dev, o.plan),
    on.sessionPresent(rec),
    on.serverSignals(steering),
    on.telemetry(messaging),
    on.whatFollows(fleet),
    ...(o.listeners ?? []),
  ]);
  events[EV_OUTAGE] = (outage, _atUs, nowUs) => outages.start(outage, nowUs);
  events[EV_REQUEST] = (slot, _atUs, nowUs) => messaging.requestDue(slot, fleet.device(slot)?.mqtt ?? null, nowUs);
  events[EV_PUBLISH] = (slot, _atUs, nowUs) => messaging.publishDue(slot, fleet.device(slot)?.mqtt ?? null, nowUs);
  events[EV_DOWNLINK] = (slot, atUs) => messaging.downlinkDue(slot, atUs);
  o.plan.outages.forEach((out, i) => scheduler.push(out.atUs, i, EV_OUTAGE));
  return { rec, dev, fleet, scheduler, life, out };
}

function newMessaging(
  o: RunnerOptions,
  rec: Recorder,
  dev: DeviceTable,
  scheduler: Scheduler,
  runner: RunnerSide,
  fleet: Fleet,
): Messaging {
  return new Messaging(
    {
      scenario: o.scenario,
      runId: o.runId,
      workerIndex: o.workerIndex,
      ids: o.ids,
      durationUs: o.plan.durationUs,
      cohortOf: (slot) => dev.cohort(slot),
      comingBack: (slot) => {
        const c = fleet.device(slot);
        return dev.pending[slot] === 1 || (c !== null && c.state !== 'closing' && c.state !== 'closed');
      },
      sessionOf: (slot) => fleet.device(slot)?.mqtt ?? null,
      schedulePublish: (slot, atUs) => scheduler.push(atUs, slot, EV_PUBLISH),
      scheduleRequest: (slot, atUs) => scheduler.push(atUs, slot, EV_REQUEST),
      scheduleDownlink: (slot, atUs) => scheduler.push(atUs, slot, EV_DOWNLINK),
      cloudTargets: dev.targetsOf(0),
      cloud: {
        now: () => o.clock.nowUs(),
        clock: o.clock,
        at: (us) => runner.at(us),
        runId: o.runId,
        workerIndex: o.workerIndex,
        maxPacketBytes: o.maxPacketBytes,
        rec,
        onReady: () => {},
      },
    },
    rec,
  );
}

/** Counts each attempt to a host-name target against its address, and keeps the tallies for the run's end. */
function namesListener(dev: DeviceTable): SessionListener {
  const finish = (kept: RunKept): void => void (kept.names = dev.nameTallies());
  // Runs to IP targets only pay nothing per connection.
  if (!dev.hasNames) return { finish };
  return {
    connected: (slot) => dev.nameSettled(slot, true),
    failed: (slot) => dev.nameSettled(slot, false),
    finish,
  };
}
