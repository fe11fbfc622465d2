/**
 * Issue 24: device message stores as the SDKs keep them. The store's rules (what is resent when,
 * what the offline queue keeps and drops) are pure; telemetry (engine/telemetry.ts) is driven on the
 * fake clock with an in-process session that records every PUBLISH it is given, and the delivery
 * tracker's buckets are checked message by message.
 */
import { describe, expect, it } from 'vitest';
import { DeviceStores } from '../../src/engine/message-store.js';
import { Telemetry } from '../../src/engine/telemetry.js';
import { DeliveryTracker } from '../../src/metrics/delivery.js';
import { Recorder } from '../../src/metrics/recorder.js';
import type { MqttSession } from '../../src/protocols/device.js';
import { decodePayload } from '../../src/protocols/payload.js';
import { STORE_NONE, type ResolvedStore } from '../../src/results/resolved-scenario.js';
import { scenarioSchema } from '../../src/scenario/schema.js';
import { resolveScenario } from '../../src/scenario/resolve.js';
import { FakeClock } from '../helpers/fake-clock.js';

const MQTTJS: ResolvedStore = { resend: 'always', offlineQueue: null, overflow: 'dropNewest', queueQos0: true };
const m = (seq: number) => ({ seq, stampUs: seq * 1_000_000 });

describe('DeviceStores: what is resent, what is queued', () => {
  it('resend always: unacknowledged QoS 1/2 messages go out again in send order in any new session', () => {
    const s = new DeviceStores(1);
    for (const seq of [0, 1, 2]) s.sent(0, m(seq), 1, MQTTJS);
    s.acked(0, 1);
    expect(s.reconnected(0, false, MQTTJS)).toEqual({ resend: [m(0), m(2)], forgotten: [] });
    // Handed out once: the resends are in the store again only when written again.
    expect(s.reconnected(0, false, MQTTJS)).toEqual({ resend: [], forgotten: [] });
  });

  it('resend session (Paho): resent in a resumed session only, forgotten in a clean one', () => {
    const paho: ResolvedStore = { ...STORE_NONE, resend: 'session' };
    const s = new DeviceStores(2);
    s.sent(0, m(4), 2, paho);
    s.sent(1, m(4), 2, paho);
    expect(s.reconnected(0, true, paho)).toEqual({ resend: [m(4)], forgotten: [] });
    expect(s.reconnected(1, false, paho)).toEqual({ resend: [], forgotten: [m(4)] });
  });

  it('store none and QoS 0 keep nothing to resend', () => {
    const s = new DeviceStores(1);
    s.sent(0, m(0), 1, STORE_NONE);
    s.sent(0, m(1), 0, MQTTJS);
    expect(s.reconnected(0, false, MQTTJS)).toEqual({ resend: [], forgotten: [] });
  });

  it('offline queue: held in order up to its size; dropNewest drops the message that does not fit', () => {
    const rules: ResolvedStore = { ...MQTTJS, offlineQueue: 2, overflow: 'dropNewest' };
    const s = new DeviceStores(1);
    expect(s.dueOffline(0, m(0), 1, rules)).toEqual({ queued: true, dropped: [] });
    expect(s.dueOffline(0, m(1), 1, rules)).toEqual({ queued: true, dropped: [] });
    expect(s.dueOffline(0, m(2), 1, rules)).toEqual({ queued: false, dropped: [m(2)] });
    expect([s.nextQueued(0), s.nextQueued(0), s.nextQueued(0)]).toEqual([m(0), m(1), null]);
  });

  it('dropOldest pushes the oldest out; a message the session refused goes back to the head', () => {
    const rules: ResolvedStore = { ...MQTTJS, offlineQueue: 2, overflow: 'dropOldest' };
    const s = new DeviceStores(1);
    s.dueOffline(0, m(0), 1, rules);
    s.dueOffline(0, m(1), 1, rules);
    expect(s.dueOffline(0, m(2), 1, rules)).toEqual({ queued: true, dropped: [m(0)] });
    const first = s.nextQueued(0);
    s.requeueFirst(0, first as { seq: number; stampUs: number });
    expect([s.nextQueued(0), s.nextQueued(0)]).toEqual([m(1), m(2)]);
  });

  it('no queue (0), store none, and QoS 0 without queueQos0 are dropped by the device; unbounded keeps all', () => {
    const s = new DeviceStores(1);
    expect(s.dueOffline(0, m(0), 1, STORE_NONE)).toEqual({ queued: false, dropped: [m(0)] });
    const aws: ResolvedStore = { ...MQTTJS, queueQos0: false };
    expect(s.dueOffline(0, m(1), 0, aws)).toEqual({ queued: false, dropped: [m(1)] });
    for (let seq = 2; seq < 1002; seq++) expect(s.dueOffline(0, m(seq), 1, MQTTJS).queued).toBe(true);
    expect(s.leftAtEnd(0)).toEqual({ unacked: 0, queued: 1000 });
  });
});

/** A session that takes every PUBLISH (up to `cap` unacknowledged) and records it. */
class RecordingSession implements Pick<MqttSession, 'deviceId' | 'state' | 'sessionPresent' | 'publish'> {
  readonly deviceId = 0;
  state: MqttSession['state'] = 'connected';
  sessionPresent = false;
  readonly written: { seq: number; dup: boolean; stampUs: number }[] = [];
  constructor(private readonly cap = 64) {}
  publish(_topic: string, payload: Buffer, _qos: 0 | 1 | 2, _retain?: boolean, _tag?: number, dup = false): number {
    if (this.written.length >= this.cap) return -1;
    const s = decodePayload(payload);
    this.written.push({ seq: s?.seq ?? -1, dup, stampUs: s?.sentUs ?? -1 });
    return this.written.length;
  }
}

function telemetryRig(store: string) {
  const scenario = resolveScenario(
    scenarioSchema.parse({
      name: 't',
      target: 'mqtt://127.0.0.1:1',
      devices: 1,
      device: { publish: { every: '1s', qos: 1, stopBeforeEnd: '0s', store: store === 'none' ? 'none' : undefined } },
      ...(store === 'mqttjs' ? { reconnect: { preset: 'mqttjs-default' } } : {}),
      waves: [{ type: 'ramp', over: '1s' }],
      hold: '20s',
    }),
  );
  const clock = new FakeClock(0);
  const tracker = new DeliveryTracker();
  const rec = new Recorder();
  let comingBack = true;
  let session: RecordingSession | null = null;
  const telemetry: Telemetry = new Telemetry(
    {
      scenario,
      ids: new Uint32Array([0]),
      cohortOf: () => 0,
      durationUs: 100_000_000,
      comingBack: () => comingBack,
      schedulePublish: (slot, atUs) => {
        const fire = () =>
          telemetry.due(slot, session as unknown as MqttSession | null, session !== null, clock.nowUs());
        if (atUs === clock.nowUs()) clock.setImmediate(fire, undefined);
        else clock.setTimeout(fire, (atUs - clock.nowUs()) / 1000, undefined);
      },
    },
    rec,
    [tracker],
    () => 'herd/t/0',
  );
  return {
    clock,
    tracker,
    connect(s: RecordingSession) {
      session = s;
      telemetry.ready(0, s as unknown as MqttSession, clock.nowUs());
    },
    drop() {
      session = null;
    },
    gone() {
      comingBack = false;
    },
    ack(seq: number) {
      telemetry.acked(0, seq, session as unknown as MqttSession | null);
      tracker.recordAcked('0', seq);
    },
    deliver(seq: number) {
      tracker.recordReceived('0', seq, 1);
    },
    end() {
      telemetry.finish();
      return tracker.summary();
    },
  };
}

describe('telemetry with the device store, on the fake clock', () => {
  it('MQTT.js: the unacknowledged message is resent with DUP set, then the offline queue in order, stamps kept', () => {
    const r = telemetryRig('mqttjs');
    const first = new RecordingSession();
    r.connect(first); // device id 0: its first publish is due at once (offset 0)
    r.clock.advanceTo(1_000_000);
    expect(first.written).toEqual([
      { seq: 0, dup: false, stampUs: 0 },
      { seq: 1, dup: false, stampUs: 1_000_000 },
    ]);
    r.ack(0);
    r.deliver(0);
    r.drop(); // seq 1 in flight, never acknowledged
    r.clock.advanceTo(3_500_000); // seq 2 and 3 fall due offline: queued
    const second = new RecordingSession();
    r.connect(second);
    r.clock.advanceTo(4_000_000);
    expect(second.written).toEqual([
      { seq: 1, dup: true, stampUs: 1_000_000 },
      { seq: 2, dup: false, stampUs: 2_000_000 },
      { seq: 3, dup: false, stampUs: 3_000_000 },
      { seq: 4, dup: false, stampUs: 4_000_000 },
    ]);
    for (const seq of [1, 2, 3, 4]) {
      r.ack(seq);
      r.deliver(seq);
    }
    r.deliver(1); // the first copy of seq 1 arrives late: the device's resend made the duplicate
    expect(r.end()).toMatchObject({
      published: 5,
      sent: 5,
      delivered: 5,
      lostByCloud: 0,
      neverAcknowledged: 0,
      droppedByDevice: 0,
      resent: 1,
      duplicated: 1,
      duplicatedByResend: 1,
      duplicatedByCloud: 0,
    });
  });

  it('store none: the in-flight message is never acknowledged, the ones due offline are dropped by the device', () => {
    const r = telemetryRig('none');
    const first = new RecordingSession();
    r.connect(first);
    r.clock.advanceTo(1_000_000);
    r.ack(0);
    r.deliver(0);
    r.drop();
    r.clock.advanceTo(3_500_000);
    const second = new RecordingSession();
    r.connect(second);
    r.clock.advanceTo(4_000_000);
    expect(second.written).toEqual([{ seq: 4, dup: false, stampUs: 4_000_000 }]);
    r.ack(4);
    r.deliver(4);
    expect(r.end()).toMatchObject({
      published: 5,
      sent: 3,
      delivered: 2,
      lost: 1,
      lostByCloud: 0,
      neverAcknowledged: 1,
      droppedByDevice: 2,
      resent: 0,
    });
  });

  it('a device that will not come back stops publishing; what it still holds is never acknowledged at the end', () => {
    const r = telemetryRig('mqttjs');
    r.connect(new RecordingSession());
    r.clock.advanceTo(1_000_000); // seq 0 and 1 written, neither acknowledged
    r.drop();
    r.clock.advanceTo(2_000_000); // seq 2 queued
    r.gone();
    r.clock.advanceTo(10_000_000); // nothing more falls due
    expect(r.end()).toMatchObject({
      published: 3,
      sent: 2,
      delivered: 0,
      lostByCloud: 0,
      neverAcknowledged: 3,
      queuedAtEnd: 1,
      droppedByDevice: 0,
    });
  });
});
