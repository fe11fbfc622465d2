/**
 * The listeners the engine registers (engine-parts.ts lists them in order): each adapts one part —
 * the fleet, what an attempt measured, outages, steering, keepalive, messaging, the reconnect
 * policy — to the session-life hooks it reacts to (session-life.ts).
 */
import type { Failure } from '../protocols/classify.js';
import type { Device } from '../protocols/device.js';
import type { Recorder } from '../metrics/recorder.js';
import type { Plan } from '../plan/plan.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import { recordConnected, recordFailed } from './connect-record.js';
import type { DeviceTable } from './device-table.js';
import type { Fleet } from './fleet.js';
import { KeepaliveWheel, keepaliveDue, keepaliveJudge } from './keepalive.js';
import type { Messaging } from './messaging.js';
import type { OutagePlayer } from './outages.js';
import type { SessionListener } from './session-life.js';
import type { DeviceSteering } from './steering-state.js';
import type { EngineClock } from '../util/clock.js';
import { AfterReads } from './after-reads.js';
import type { RunnerSide } from './engine-hosts.js';

const KEEPALIVE_TIMEOUT: Failure = { origin: 'network', phase: 'held', code: 'KEEPALIVE_TIMEOUT' };

/** The fleet's state machine (fleet.ts) moves first: handshaking, held, gone. */
export function fleetMoves(fleet: Fleet): SessionListener {
  return {
    attemptStarted: (slot, c) => fleet.opened(slot, c),
    connected: () => fleet.ready(),
    failed: (slot) => fleet.failed(slot),
    lost: (slot) => fleet.lost(slot),
  };
}

/** What an attempt measured (connect-record.ts), before anything reacts to its outcome. */
export function connectRecord(rec: Recorder, dev: DeviceTable): SessionListener {
  return {
    connected: (slot, c) => recordConnected(rec, c, dev.intendedUs[slot] as number, dev.cohort(slot)),
    failed: (slot, _c, f, nowUs) => recordFailed(rec, f, dev.intendedUs[slot] as number, nowUs, dev.cohort(slot)),
  };
}

/**
 * What the target did: a failed attempt or a lost session joins a target outage it falls in (or
 * an outage herd observes but did not cause), and a lost session is a disconnect with its error —
 * unless herd's own silent outage made it dark.
 */
export function targetLosses(outages: OutagePlayer, rec: Recorder, dev: DeviceTable): SessionListener {
  return {
    failed: (slot, c, f, nowUs) => outages.failed(slot, nowUs, c.socketOpenUs, f.origin),
    lost: (slot, c, f, nowUs, herdsOutage) => {
      if (herdsOutage) return;
      // A keepalive death's exchange began with its unanswered PINGREQ.
      outages.lost(slot, nowUs, f.code === KEEPALIVE_TIMEOUT.code ? c.pingSentUs : nowUs);
      rec.counters.disconnects++;
      rec.error(f, dev.cohort(slot));
      dev.attemptsSinceDrop[slot] = 0;
    },
  };
}

/** A connect restarts the backoff; a session's end does when the policy says it lasted long enough. */
export function backoffRestart(steering: DeviceSteering): SessionListener {
  return {
    connected: (slot) => steering.restartBackoff(slot, 0),
    lost: (slot, c, _f, nowUs) => steering.restartBackoff(slot, nowUs - c.readyUs),
    closed: (slot, c, nowUs) => steering.restartBackoff(slot, nowUs - c.readyUs),
  };
}

/**
 * A device connected again after an outage has recovered from it; its attempts count from 0. At
 * the run's end, a hit device not back counts in its outage's attempts with those made so far.
 */
export function outageRecovery(outages: OutagePlayer, dev: DeviceTable): SessionListener {
  return {
    connected: (slot, _c, nowUs) => {
      outages.reconnected(slot, nowUs);
      dev.attemptsSinceDrop[slot] = 0;
    },
    ending: () => outages.runEnded(),
  };
}

/** After a failed attempt a device with a failover list moves to its next target. */
export function failover(dev: DeviceTable): SessionListener {
  return { failed: (slot) => dev.failover(slot) };
}

/**
 * Each held session pings on its cohort's keepalive wheel, or on a Server Keep Alive it adopted
 * (steering-state.ts); nothing received for K after a PINGREQ and the target is gone as far as the
 * device can tell: lost like any other session (KEEPALIVE_TIMEOUT), and the policy applies.
 */
export function keepalive(
  scenario: ResolvedScenario,
  dev: DeviceTable,
  fleet: Fleet,
  steering: DeviceSteering,
  clock: EngineClock,
  runner: Pick<RunnerSide, 'tearingDown' | 'socketsBehind'>,
): SessionListener {
  const wheels = scenario.cohorts.map((c) => new KeepaliveWheel(c.device.keepaliveUs));
  const device = (slot: number): Device | null => fleet.device(slot);
  const session = (slot: number): number => dev.session[slot] as number;
  const sessions = { device, session };
  const dead = (slot: number): void => fleet.device(slot)?.expire(KEEPALIVE_TIMEOUT);
  // Unanswered PINGREQs are judged once the worker has read its sockets (after-reads.ts).
  const judgement = new AfterReads(
    clock,
    () => runner.socketsBehind(),
    () => !runner.tearingDown(),
    (nowUs) => {
      keepaliveJudge(wheels, sessions, nowUs, dead);
      steering.keepaliveJudge(nowUs, device, session, dead);
    },
  );
  return {
    held: (slot, c, nowUs) => {
      const cohort = dev.cohort(slot);
      dev.session[slot] = ((dev.session[slot] as number) + 1) >>> 0;
      const s = dev.session[slot] as number;
      if (!steering.onConnected(slot, c, cohort, s, nowUs)) wheels[cohort]?.add(slot, s, nowUs);
      return false;
    },
    tick: (nowUs) => {
      keepaliveDue(wheels, sessions, nowUs);
      steering.keepaliveDue(nowUs, device, session);
      judgement.schedule();
    },
  };
}

/** Connected just as its network went down (the handshake was already in flight): the outage drops it. */
export function offlineGate(outages: OutagePlayer, dev: DeviceTable, plan: Plan): SessionListener {
  return {
    held: (slot, _c, nowUs) => {
      if (nowUs >= (dev.offlineUntilUs[slot] as number)) return false;
      outages.drop(slot, plan.outages[dev.outageOf[slot] as number]?.mode ?? 'reset');
      return true;
    },
  };
}

/** CONNACK said the target kept the device's session. */
export function sessionPresent(rec: Recorder): SessionListener {
  return {
    held: (_slot, c) => {
      if (c.sessionPresent) rec.counters.sessionPresent++;
      return false;
    },
  };
}

/** An attempt refused or a session ended on the server's word: counted and obeyed (steering-state.ts). */
export function serverSignals(steering: DeviceSteering): SessionListener {
  return {
    failed: (slot, c) => steering.onEnded(slot, c),
    lost: (slot, c) => steering.onEnded(slot, c),
  };
}

/** Telemetry, requests and downlink (messaging.ts) on the device's MQTT session. */
export function telemetry(messaging: Messaging): SessionListener {
  return {
    start: () => messaging.start(),
    held: (slot, c, nowUs) => {
      if (c.mqtt !== null) messaging.onConnected(slot, c.mqtt, nowUs);
      return false;
    },
    subscribed: (slot, granted, latencyUs, nowUs) => messaging.onSubscribed(slot, granted, latencyUs, nowUs),
    published: (slot, tag, latencyUs, reasonCode) => messaging.onPublished(slot, tag, latencyUs, reasonCode),
    message: (slot, m, c) => messaging.onMessage(slot, m, c),
    lost: (slot) => messaging.sessionEnded(slot),
    closed: (slot) => messaging.sessionEnded(slot),
    teardown: () => messaging.stop(),
    ending: () => messaging.ending(),
    finish: (kept) => {
      kept.delivery = messaging.state();
    },
  };
}

/** What follows a session's end, once everything above has counted it: the policy, or what herd asked for. */
export function whatFollows(fleet: Fleet): SessionListener {
  return {
    failed: (slot, _c, _f, nowUs) => fleet.reconnectLater(slot, nowUs),
    lost: (slot, _c, _f, nowUs) => fleet.reconnectLater(slot, nowUs),
    closed: (slot, _c, nowUs) => fleet.closed(slot, nowUs),
  };
}
