/**
 * When a warm-up round (warm-engine.ts) ends, told as a session listener of the round's Runner.
 */
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import type { SessionListener } from './session-life.js';

/**
 * Publishes each connected device must see through before its round ends (and, QoS ≥ 1 or echo,
 * their answers). One runs every path a publish takes; the volume V8 needs comes from the fleet
 * (devices connected early publish on while the round's last ones connect), and a second one
 * would add a whole interval to every round.
 */
export const WARM_PUBLISHES = 1;

/**
 * When a round ends: once every attempt has its outcome (a failure, say EADDRNOTAVAIL, is warm
 * code too) and every connected device of a publishing cohort has had WARM_PUBLISHES publishes seen
 * through — received by the listener and, QoS ≥ 1, acknowledged, with echo, delivered back — so
 * the publish, acknowledgement and delivery paths ran on every device. A device whose session is
 * lost is waited for no more. Past the round's deadline the plan's end stops it anyway.
 */
export class RoundEnd implements SessionListener {
  /** Sessions that came up. */
  sessions = 0;
  /** Devices whose WARM_PUBLISHES publishes were answered. */
  answered = 0;
  acks = 0;
  deliveries = 0;
  private outcomes = 0;
  /** Connected devices of publishing cohorts, and connections the listener has had WARM_PUBLISHES from. */
  private publishing = 0;
  private listenerPublishers = 0;
  /** Connected devices still waiting for answers to their publishes (acknowledgements, deliveries). */
  private unanswered = 0;
  /** Per slot: 1 while waiting for answers, else 0; and the answers seen, up to WARM_PUBLISHES. */
  private readonly waiting: Uint8Array;
  private readonly acked: Uint8Array;
  private readonly delivered: Uint8Array;
  /** Per cohort: publishes at all, and which answers its publishes have. */
  private readonly publishes: boolean[];
  private readonly needsAcks: boolean[];
  private readonly needsEcho: boolean[];

  constructor(
    scenario: ResolvedScenario,
    private readonly cohortOf: (slot: number) => number,
    private readonly handshakes: number,
    private readonly stop: () => void,
  ) {
    this.waiting = new Uint8Array(handshakes);
    this.acked = new Uint8Array(handshakes);
    this.delivered = new Uint8Array(handshakes);
    this.publishes = scenario.cohorts.map((c) => c.device.publish !== null);
    this.needsAcks = scenario.cohorts.map((c) => (c.device.publish?.qos ?? 0) > 0);
    this.needsEcho = scenario.cohorts.map((c) => c.device.publish?.echo === true);
  }

  connected(slot: number): void {
    this.sessions++;
    const c = this.cohortOf(slot);
    if (this.publishes[c] === true) this.publishing++;
    if (this.needsAcks[c] === true || this.needsEcho[c] === true) {
      this.waiting[slot] = 1;
      this.unanswered++;
    }
    this.outcome();
  }

  failed(): void {
    this.outcome();
  }

  lost(slot: number): void {
    if (this.publishes[this.cohortOf(slot)] === true) this.publishing--;
    if (this.waiting[slot] === 1) this.stopWaiting(slot);
    this.check();
  }

  published(slot: number, tag: number): void {
    if (tag === 0) return; // not telemetry: nothing else publishes in a warm-up
    this.acks++;
    if ((this.acked[slot] as number) < WARM_PUBLISHES) this.acked[slot] = (this.acked[slot] as number) + 1;
    this.settle(slot);
  }

  message(slot: number): void {
    this.deliveries++;
    if ((this.delivered[slot] as number) < WARM_PUBLISHES) this.delivered[slot] = (this.delivered[slot] as number) + 1;
    this.settle(slot);
  }

  /** The listener has had WARM_PUBLISHES PUBLISHes on one more connection. */
  listenerPublished(): void {
    this.listenerPublishers++;
    this.check();
  }

  private settle(slot: number): void {
    if (this.waiting[slot] !== 1) return;
    const c = this.cohortOf(slot);
    if (this.needsAcks[c] === true && (this.acked[slot] as number) < WARM_PUBLISHES) return;
    if (this.needsEcho[c] === true && (this.delivered[slot] as number) < WARM_PUBLISHES) return;
    this.answered++;
    this.stopWaiting(slot);
    this.check();
  }

  private stopWaiting(slot: number): void {
    this.waiting[slot] = 0;
    this.unanswered--;
  }

  private outcome(): void {
    this.outcomes++;
    this.check();
  }

  private check(): void {
    if (this.outcomes >= this.handshakes && this.unanswered === 0 && this.listenerPublishers >= this.publishing)
      this.stop();
  }
}
