/**
 * The one place the parts that react to a session's life are built and registered, in the order
 * they hear of it (session-life.ts). A feature that reacts to attempts, connects, losses or ticks
 * is one more listener in `sessionParts`' list, plus an event kind if it has timed work; runner.ts
 * does not change.
 *
 * The order is part of the accounting: the fleet's gauges move first (the recorder's per-second
 * gauges and the handshake cap read them); what an attempt measured is recorded before anything
 * reacts to it; a backoff restart comes before the reconnect policy reads the backoff; what
 * follows a session's end (the policy, a churn's reconnect) comes last.
 */
import type { Failure } from '../protocols/classify.js';
import type { Device } from '../protocols/device.js';
import type { Recorder } from '../metrics/recorder.js';
import type { Plan } from '../plan/plan.js';
import { recordConnected, recordFailed } from './connect-record.js';
import type { DeviceTable } from './device-table.js';
import { EV_DOWNLINK, EV_OUTAGE, EV_PUBLISH, EV_REQUEST } from './event-heap.js';
import type { Fleet } from './fleet.js';
import { KeepaliveWheel, keepaliveDue } from './keepalive.js';
import { Messaging } from './messaging.js';
import { OutagePlayer } from './outages.js';
import type { RunnerOptions } from './runner-options.js';
import type { Scheduler } from './scheduler.js';
import type { SessionListener } from './session-life.js';
import { DeviceSteering } from './steering-state.js';

const KEEPALIVE_TIMEOUT: Failure = { origin: 'network', phase: 'held', code: 'KEEPALIVE_TIMEOUT' };

/** What the runner keeps and lends to the parts. */
export interface EngineCore {
  readonly o: RunnerOptions;
  readonly rec: Recorder;
  readonly dev: DeviceTable;
  readonly fleet: Fleet;
  readonly scheduler: Scheduler;
  readonly tearingDown: boolean;
  now(): number;
  /** Moves the recorder to the second `nowUs` is in. */
  at(nowUs: number): void;
}

/** A scheduler event of one kind is due for `slot` (intended at `atUs`). */
export type EventHandler = (slot: number, atUs: number, nowUs: number) => void;

export interface SessionParts {
  readonly listeners: readonly SessionListener[];
  /** The scheduler's events by kind; not EV_RECONNECT, which is the runner's own attempt. */
  readonly events: readonly (EventHandler | undefined)[];
  /** A churn is due: the device ends its session and reconnects at once. */
  churn(slot: number, atUs: number): void;
}

export function sessionParts(core: EngineCore): SessionParts {
  const { o, rec, dev, fleet, scheduler } = core;
  const steering = new DeviceSteering(o.scenario, o.targets, rec, dev);
  const messaging = newMessaging(core);
  const outages = new OutagePlayer({
    dev,
    fleet,
    rec,
    plan: o.plan,
    get tearingDown() {
      return core.tearingDown;
    },
    now: () => core.now(),
    at: (us) => core.at(us),
    soon: (fn) => o.clock.setImmediate(fn, undefined),
  });
  const listeners: SessionListener[] = [
    fleetMoves(fleet),
    connectRecord(rec, dev),
    targetLosses(outages, rec, dev),
    backoffRestart(steering),
    outageRecovery(outages, dev),
    // After a failed attempt a device with a failover list moves to its next target.
    { failed: (slot) => dev.failover(slot) },
    keepalive(core, steering),
    offlineGate(outages, dev, o.plan),
    sessionPresent(rec),
    serverSignals(steering),
    telemetry(messaging),
    whatFollows(fleet),
  ];
  const events: (EventHandler | undefined)[] = [];
  events[EV_OUTAGE] = (outage, _atUs, nowUs) => outages.start(outage, nowUs);
  events[EV_REQUEST] = (slot, _atUs, nowUs) => messaging.requestDue(slot, fleet.device(slot)?.mqtt ?? null, nowUs);
  events[EV_PUBLISH] = (slot, _atUs, nowUs) => messaging.publishDue(slot, fleet.device(slot)?.mqtt ?? null, nowUs);
  events[EV_DOWNLINK] = (slot, atUs) => messaging.downlinkDue(slot, atUs);
  o.plan.outages.forEach((out, i) => scheduler.push(out.atUs, i, EV_OUTAGE));
  return { listeners, events, churn: (slot, atUs) => outages.churn(slot, atUs) };
}

/** The fleet's state machine (fleet.ts) moves first: handshaking, held, gone. */
function fleetMoves(fleet: Fleet): SessionListener {
  return {
    attemptStarted: (slot, c) => fleet.opened(slot, c),
    connected: () => fleet.ready(),
    failed: (slot) => fleet.failed(slot),
    lost: (slot) => fleet.lost(slot),
  };
}

/** What an attempt measured (connect-record.ts), before anything reacts to its outcome. */
function connectRecord(rec: Recorder, dev: DeviceTable): SessionListener {
  return {
    connected: (slot, c) => recordConnected(rec, c, dev.intendedUs[slot] as number, dev.cohort(slot)),
    failed: (slot, _c, f, nowUs) => recordFailed(rec, f, dev.intendedUs[slot] as number, nowUs, dev.cohort(slot)),
  };
}

/**
 * What the target did: a failed attempt or a lost session joins a target outage it falls in, and
 * a lost session is a disconnect with its error — unless herd's own silent outage made it dark.
 */
function targetLosses(outages: OutagePlayer, rec: Recorder, dev: DeviceTable): SessionListener {
  return {
    failed: (slot, c, _f, nowUs) => outages.joinTargetOutage(slot, nowUs, c.socketOpenUs),
    lost: (slot, c, f, nowUs, herdsOutage) => {
      if (herdsOutage) return;
      // A keepalive death's exchange began with its unanswered PINGREQ.
      outages.joinTargetOutage(slot, nowUs, f.code === KEEPALIVE_TIMEOUT.code ? c.pingSentUs : nowUs);
      rec.counters.disconnects++;
      rec.error(f, dev.cohort(slot));
      dev.attemptsSinceDrop[slot] = 0;
    },
  };
}

/** A connect restarts the backoff; a session's end does when the policy says it lasted long enough. */
function backoffRestart(steering: DeviceSteering): SessionListener {
  return {
    connected: (slot) => steering.restartBackoff(slot, 0),
    lost: (slot, c, _f, nowUs) => steering.restartBackoff(slot, nowUs - c.readyUs),
    closed: (slot, c, nowUs) => steering.restartBackoff(slot, nowUs - c.readyUs),
  };
}

/** A device connected again after an outage has recovered from it; its attempts count from 0. */
function outageRecovery(outages: OutagePlayer, dev: DeviceTable): SessionListener {
  return {
    connected: (slot, _c, nowUs) => {
      outages.reconnected(slot, nowUs);
      dev.attemptsSinceDrop[slot] = 0;
    },
  };
}

/**
 * Each held session pings on its cohort's keepalive wheel, or on a Server Keep Alive it adopted
 * (steering-state.ts); nothing received for K after a PINGREQ and the target is gone as far as the
 * device can tell: lost like any other session (KEEPALIVE_TIMEOUT), and the policy applies.
 */
function keepalive(core: EngineCore, steering: DeviceSteering): SessionListener {
  const { dev, fleet } = core;
  const wheels = core.o.scenario.cohorts.map((c) => new KeepaliveWheel(c.device.keepaliveUs));
  const device = (slot: number): Device | null => fleet.device(slot);
  const session = (slot: number): number => dev.session[slot] as number;
  const sessions = { device, session };
  const dead = (slot: number): void => fleet.device(slot)?.expire(KEEPALIVE_TIMEOUT);
  return {
    held: (slot, c, nowUs) => {
      const cohort = dev.cohort(slot);
      dev.session[slot] = ((dev.session[slot] as number) + 1) >>> 0;
      const s = dev.session[slot] as number;
      if (!steering.onConnected(slot, c, cohort, s, nowUs)) wheels[cohort]?.add(slot, s, nowUs);
      return false;
    },
    tick: (nowUs) => {
      keepaliveDue(wheels, sessions, nowUs, dead);
      steering.keepaliveDue(nowUs, device, session, dead);
    },
  };
}

/** Connected just as its network went down (the handshake was already in flight): the outage drops it. */
function offlineGate(outages: OutagePlayer, dev: DeviceTable, plan: Plan): SessionListener {
  return {
    held: (slot, _c, nowUs) => {
      if (nowUs >= (dev.offlineUntilUs[slot] as number)) return false;
      outages.drop(slot, plan.outages[dev.outageOf[slot] as number]?.mode ?? 'reset');
      return true;
    },
  };
}

function sessionPresent(rec: Recorder): SessionListener {
  return {
    held: (_slot, c) => {
      if (c.sessionPresent) rec.counters.sessionPresent++;
      return false;
    },
  };
}

/** An attempt refused or a session ended on the server's word: counted and obeyed (steering-state.ts). */
function serverSignals(steering: DeviceSteering): SessionListener {
  return {
    failed: (slot, c) => steering.onEnded(slot, c),
    lost: (slot, c) => steering.onEnded(slot, c),
  };
}

/** Telemetry, requests and downlink (messaging.ts) on the device's MQTT session. */
function telemetry(messaging: Messaging): SessionListener {
  return {
    start: () => messaging.start(),
    held: (slot, c, nowUs) => {
      if (c.mqtt !== null) messaging.onConnected(slot, c.mqtt, nowUs);
      return false;
    },
    subscribed: (slot, granted, latencyUs, nowUs) => messaging.onSubscribed(slot, granted, latencyUs, nowUs),
    published: (latencyUs, reasonCode) => messaging.onPublished(latencyUs, reasonCode),
    message: (slot, m, c) => messaging.onMessage(slot, m, c),
    lost: (slot) => messaging.sessionEnded(slot),
    closed: (slot) => messaging.sessionEnded(slot),
    teardown: () => messaging.stop(),
    finish: (kept) => {
      kept.delivery = messaging.state();
    },
  };
}

/** What follows a session's end, once everything above has counted it: the policy, or what herd asked for. */
function whatFollows(fleet: Fleet): SessionListener {
  return {
    failed: (slot, _c, _f, nowUs) => fleet.reconnectLater(slot, nowUs),
    lost: (slot, _c, _f, nowUs) => fleet.reconnectLater(slot, nowUs),
    closed: (slot, _c, nowUs) => fleet.closed(slot, nowUs),
  };
}

function newMessaging(core: EngineCore): Messaging {
  const { o, rec, dev, scheduler } = core;
  const now = (): number => core.now();
  const at = (us: number): void => core.at(us);
  return new Messaging(
    {
      scenario: o.scenario,
      runId: o.runId,
      workerIndex: o.workerIndex,
      ids: o.ids,
      durationUs: o.plan.durationUs,
      cohortOf: (slot) => dev.cohort(slot),
      schedulePublish: (slot, atUs) => scheduler.push(atUs, slot, EV_PUBLISH),
      scheduleRequest: (slot, atUs) => scheduler.push(atUs, slot, EV_REQUEST),
      scheduleDownlink: (slot, atUs) => scheduler.push(atUs, slot, EV_DOWNLINK),
      cloudTargets: dev.targetsOf(0),
      cloud: {
        now,
        clock: o.clock,
        at,
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
