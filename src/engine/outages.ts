/**
 * Planned outages and churn as a worker plays them: who goes offline, how their sessions end
 * (clean DISCONNECT, TCP reset, or silence found only by keepalive), and which devices a
 * target-side outage hit. Mass drops go a batch per event-loop turn so they never block the
 * harness that is measuring them.
 */
import type { Device } from '../protocols/device.js';
import type { Recorder } from '../metrics/recorder.js';
import type { Plan } from '../plan/plan.js';
import { NO_OUTAGE, type DeviceTable } from './device-table.js';
import { EV_SILENT_DETECT } from './event-heap.js';

export interface OutageHost {
  readonly dev: DeviceTable;
  readonly rec: Recorder;
  readonly plan: Plan;
  readonly tearingDown: boolean;
  now(): number;
  at(nowUs: number): void;
  pushEvent(atUs: number, slot: number, kind: number): void;
  /** A connected session is being ended by herd: connected −1, closing +1. */
  ending(): void;
}

const DROP_BATCH = 256;

/**
 * A target drops its connections at an outage's start (silent ones at its end) and a device hears
 * of it a round trip and an event-loop turn later: losses that soon after the window count as its
 * hits, or a 0-second outage ("the server drops everyone") would hit nobody.
 */
export const TARGET_OUTAGE_NOTICE_US = 1_000_000;

export type DropMode = 'disconnect' | 'reset' | 'silent';

export class OutagePlayer {
  private readonly h: OutageHost;
  /** Target-side outage windows that have started: devices lost inside one are tracked until back. */
  private readonly targetOutages: number[] = [];

  constructor(host: OutageHost) {
    this.h = host;
  }

  start(outage: number, now: number): void {
    const { dev: d, rec, plan } = this.h;
    this.h.at(now);
    const out = plan.outages[outage];
    if (!out) return;
    if (out.side === 'target') {
      this.targetOutages.push(outage);
      return;
    }
    const toDrop: number[] = [];
    for (const slot of d.outageMembers[outage] ?? []) {
      d.offlineUntilUs[slot] = out.atUs + out.offlineUs;
      d.outageOf[slot] = outage;
      d.retries[slot] = 0;
      d.attemptsSinceDrop[slot] = 0;
      rec.outageDropped(outage);
      const c = d.conns[slot];
      if (c && c.state === 'connected') toDrop.push(slot);
      // Devices mid-handshake finish it and are dropped on connect; devices waiting to retry keep
      // their timers and find the network down.
    }
    this.dropInBatches(toDrop, 0, out.mode);
  }

  private dropInBatches(slots: number[], from: number, mode: DropMode): void {
    if (this.h.tearingDown) return;
    const now = this.h.now();
    this.h.at(now);
    const end = Math.min(slots.length, from + DROP_BATCH);
    for (let k = from; k < end; k++) {
      const slot = slots[k] as number;
      const c = this.h.dev.conns[slot];
      if (c && c.state === 'connected' && this.h.dev.silent[slot] === 0) this.drop(slot, c, mode, now);
    }
    if (end < slots.length) setImmediate(() => this.dropInBatches(slots, end, mode));
  }

  /** Ends one connected session the way the outage says. */
  drop(slot: number, c: Device, mode: DropMode, now: number): void {
    const d = this.h.dev;
    this.h.rec.counters.outageDrops++;
    if (mode === 'silent') {
      // No traffic either way: the device notices only when its keepalive goes unanswered, and
      // until then it still believes it is connected.
      d.silent[slot] = 1;
      this.h.pushEvent(now + d.keepaliveUs(slot), slot, EV_SILENT_DETECT);
      return;
    }
    this.h.ending();
    d.reconnectAfterClose[slot] = 1;
    if (mode === 'reset') c.reset();
    else c.end();
  }

  /** A silent device's keepalive went unanswered: it gives up on the session and reconnects. */
  detectSilent(slot: number): void {
    const d = this.h.dev;
    const c = d.conns[slot];
    d.silent[slot] = 0;
    if (!c || c.state !== 'connected') return;
    this.h.ending();
    d.reconnectAfterClose[slot] = 1;
    c.abort();
  }

  churn(slot: number, atUs: number): void {
    const d = this.h.dev;
    const c = d.conns[slot];
    if (!c || c.state !== 'connected' || d.silent[slot] === 1) return;
    this.h.ending();
    d.reconnectAfterClose[slot] = 2;
    d.intendedUs[slot] = atUs;
    c.end();
  }

  /** A device that loses its session or an attempt during a target outage is one it hit. */
  joinTargetOutage(slot: number): void {
    const d = this.h.dev;
    if (this.targetOutages.length === 0 || d.outageOf[slot] !== NO_OUTAGE) return;
    const now = this.h.now();
    for (const i of this.targetOutages) {
      const out = this.h.plan.outages[i];
      if (!out || now < out.atUs || now > out.atUs + out.offlineUs + TARGET_OUTAGE_NOTICE_US) continue;
      d.outageOf[slot] = i;
      d.attemptsSinceDrop[slot] = 0;
      this.h.rec.outageDropped(i);
      return;
    }
  }
}
