/**
 * Planned outages and churn as a worker plays them: who goes offline, how their sessions end
 * (clean DISCONNECT, TCP reset, or a dark link found only by keepalive), and which devices a
 * target-side outage hit. Mass drops go a batch per event-loop turn so they never block the
 * harness that is measuring them.
 */
import { ObservedOutageDetector, type ObservedRule } from '../metrics/observed-outages.js';
import type { Recorder } from '../metrics/recorder.js';
import type { Plan } from '../plan/plan.js';
import type { OutageMode } from '../results/resolved-scenario.js';
import type { ErrorOrigin } from '../results/types.js';
import { NO_OUTAGE, type DeviceTable } from './device-table.js';
import type { Fleet } from './fleet.js';

export interface OutageHost {
  readonly dev: DeviceTable;
  readonly fleet: Fleet;
  readonly rec: Recorder;
  readonly plan: Plan;
  readonly tearingDown: boolean;
  /** The rule for outages herd did not cause (scenario `observedOutages`); null or absent: off. */
  readonly observedRule?: ObservedRule | null;
  now(): number;
  at(nowUs: number): void;
  /** Runs `fn` after the current event-loop turn (the engine clock's setImmediate). */
  soon(fn: () => void): void;
}

const DROP_BATCH = 256;
/**
 * How long after a target outage's end a loss still counts as its doing (see joinTargetOutage). A
 * target drops its connections at an outage's start (silent ones at its end) and a device hears of
 * it a round trip and an event-loop turn later, or a 0-second outage ("the server drops everyone")
 * would hit nobody.
 */
export const JOIN_SLACK_US = 1_000_000;

export class OutagePlayer {
  private readonly h: OutageHost;
  /** Target-side outage windows that have started: devices lost inside one are tracked until back. */
  private readonly targetOutages: number[] = [];
  /** Finds outages herd did not cause; their devices get outageOf = plan.outages.length + event. */
  private readonly observed: ObservedOutageDetector | null;

  constructor(host: OutageHost) {
    this.h = host;
    const rec = host.rec.observed;
    const first = host.plan.outages.length;
    this.observed = host.observedRule
      ? new ObservedOutageDetector(host.observedRule, host.dev.outageOf.length, {
          started: (event, atUs) => rec.started(event, atUs),
          accepted: (event, atUs) => rec.accepted(event, atUs),
          hit: (slot, event) => {
            const d = host.dev;
            // Already attributed, or back already when the event was recognised: not this event's hit.
            if (d.outageOf[slot] !== NO_OUTAGE || host.fleet.device(slot)?.state === 'connected') return;
            d.outageOf[slot] = first + event;
            d.attemptsSinceDrop[slot] = 0;
            rec.hit(event);
          },
        })
      : null;
  }

  start(outage: number, now: number): void {
    const { dev: d, fleet, rec, plan } = this.h;
    this.h.at(now);
    const out = plan.outages[outage];
    if (!out) return;
    if (out.side === 'target') {
      this.targetOutages.push(outage);
      return;
    }
    const toDrop: number[] = [];
    for (const slot of d.outageMembers[outage] ?? []) {
      // Hit again before it was back from an earlier planned outage: that one counts it as interrupted
      // (an observed one, numbered after the planned ones, only as not back).
      const earlier = d.outageOf[slot] as number;
      const attempts = d.attemptsSinceDrop[slot] as number;
      if (earlier < plan.outages.length) rec.outageInterrupted(earlier, attempts);
      else if (earlier !== NO_OUTAGE) rec.outageNotBack(earlier, attempts);
      d.offlineUntilUs[slot] = out.atUs + out.offlineUs;
      d.outageOf[slot] = outage;
      d.retries[slot] = 0;
      d.attemptsSinceDrop[slot] = 0;
      rec.outageDropped(outage);
      if (fleet.device(slot)?.state === 'connected') toDrop.push(slot);
      // Devices mid-handshake finish it and are dropped on connect; devices waiting to retry keep
      // their timers and find the network down.
    }
    this.dropInBatches(toDrop, 0, out.mode);
  }

  private dropInBatches(slots: number[], from: number, mode: OutageMode): void {
    if (this.h.tearingDown) return;
    this.h.at(this.h.now());
    const end = Math.min(slots.length, from + DROP_BATCH);
    for (let k = from; k < end; k++) this.drop(slots[k] as number, mode);
    if (end < slots.length) this.h.soon(() => this.dropInBatches(slots, end, mode));
  }

  /** Ends one held session the way the outage says. */
  drop(slot: number, mode: OutageMode): void {
    const fleet = this.h.fleet;
    if (!fleet.held(slot)) return;
    this.h.rec.counters.outageDrops++;
    if (mode === 'silent') {
      // No traffic either way: the link goes dark and the device notices only when its keepalive
      // goes unanswered (the same code a real silent broker triggers); until then it believes it
      // is connected. Its session then ends through the lost path as part of this outage.
      fleet.silence(slot);
      return;
    }
    if (mode === 'reboot') {
      // The device restarts without a word: its old connection goes dark and stays open at the
      // target (until the new CONNECT takes it over, or the run ends); the device reconnects by
      // its policy once its network is back.
      fleet.abandon(slot);
      fleet.reconnectLater(slot, this.h.now());
      return;
    }
    fleet.endSession(slot, mode === 'reset' ? 'reset' : 'end', 'policy');
  }

  churn(slot: number, atUs: number): void {
    if (!this.h.fleet.held(slot)) return;
    // The device reconnects at once, as a planned attempt at its churn time.
    this.h.dev.intendedUs[slot] = atUs;
    this.h.fleet.endSession(slot, 'end', 'now');
  }

  /** A device is connected again: if an outage hit it and its network is back, it recovered. */
  reconnected(slot: number, nowUs: number): void {
    const d = this.h.dev;
    this.observed?.accepted(nowUs);
    const outage = d.outageOf[slot] as number;
    if (outage === NO_OUTAGE || nowUs < (d.offlineUntilUs[slot] as number)) return;
    const first = this.h.plan.outages.length;
    if (outage >= first) {
      const acceptedUs = this.h.rec.observed.acceptedUs(outage - first) ?? nowUs;
      const attempts = d.attemptsSinceDrop[slot] as number;
      this.h.rec.observed.recovered(outage - first, Math.max(0, nowUs - acceptedUs), attempts);
      d.outageOf[slot] = NO_OUTAGE;
      return;
    }
    const out = this.h.plan.outages[outage];
    // Back before a target outage ended (a partial one): recovery 0, clamped, not negative.
    if (out)
      this.h.rec.outageRecovered(
        outage,
        Math.max(0, nowUs - (out.atUs + out.offlineUs)),
        d.attemptsSinceDrop[slot] as number,
      );
    d.outageOf[slot] = NO_OUTAGE;
  }

  /** A connected session ended without herd asking (`sinceUs`: see joinTargetOutage). */
  lost(slot: number, lostAtUs: number, sinceUs: number): void {
    this.joinTargetOutage(slot, lostAtUs, sinceUs);
    if (this.observed === null || this.h.tearingDown || this.h.dev.outageOf[slot] !== NO_OUTAGE) return;
    this.observed.lost(slot, lostAtUs, this.h.fleet.connected);
  }

  /**
   * An attempt failed; only a device that had been connected, and only the target not answering
   * (not a local error, not a refusal it sent), counts.
   */
  failed(slot: number, nowUs: number, sinceUs: number, origin: ErrorOrigin): void {
    this.joinTargetOutage(slot, nowUs, sinceUs);
    const d = this.h.dev;
    if (this.observed === null || this.h.tearingDown || d.outageOf[slot] !== NO_OUTAGE) return;
    // Only devices that had been connected are the fleet that was up: a first connect failing is
    // the target not admitting a newcomer (or a harness at its limit), not the fleet losing it.
    if ((d.session[slot] as number) === 0) return;
    if (origin === 'network' || origin === 'tls' || origin === 'timeout') this.observed.failed(slot, nowUs);
  }

  /**
   * The run ended: every hit device not back yet counts in its outage's attempts per device with
   * the real attempts it made so far, so the worst storms (devices still retrying) are in the sample.
   */
  runEnded(): void {
    const d = this.h.dev;
    for (let slot = 0; slot < d.outageOf.length; slot++) {
      const outage = d.outageOf[slot] as number;
      if (outage === NO_OUTAGE) continue;
      this.h.rec.outageNotBack(outage, d.attemptsSinceDrop[slot] as number);
      d.outageOf[slot] = NO_OUTAGE;
    }
  }

  /**
   * A device that loses its session or an attempt during or because of a target outage is one it
   * hit: lost at or after the window's start, by an exchange that began (`sinceUs`: the unanswered
   * PINGREQ of a keepalive death, the start of a failed attempt, else the loss itself) no later
   * than JOIN_SLACK_US after the window's end — the target resets what it held silent as the
   * window ends, and that reset reaches the device just after.
   */
  joinTargetOutage(slot: number, lostAtUs: number, sinceUs: number): void {
    const d = this.h.dev;
    if (this.targetOutages.length === 0 || d.outageOf[slot] !== NO_OUTAGE) return;
    for (const i of this.targetOutages) {
      const out = this.h.plan.outages[i];
      if (!out || lostAtUs < out.atUs || sinceUs > out.atUs + out.offlineUs + JOIN_SLACK_US) continue;
      d.outageOf[slot] = i;
      d.attemptsSinceDrop[slot] = 0;
      this.h.rec.outageDropped(i);
      return;
    }
  }
}
