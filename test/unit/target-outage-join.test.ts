import { describe, expect, it } from 'vitest';
import { OutagePlayer, JOIN_SLACK_US, type OutageHost } from '../../src/engine/outages.js';
import { NO_OUTAGE, type DeviceTable } from '../../src/engine/device-table.js';
import { Recorder } from '../../src/metrics/recorder.js';
import type { Plan, PlannedOutage } from '../../src/plan/plan.js';

/** A worker's view of one target-side outage, on a fake clock (µs from the run origin). */
function player(outage: Pick<PlannedOutage, 'atUs' | 'offlineUs'>, devices: number) {
  let nowUs = 0;
  const rec = new Recorder();
  const dev = {
    outageOf: new Uint16Array(devices).fill(NO_OUTAGE),
    attemptsSinceDrop: new Uint32Array(devices).fill(3),
  } as unknown as DeviceTable;
  const plan = {
    outages: [{ name: 'target-outage-1', side: 'target', mode: 'reset', members: new Uint32Array(0), ...outage }],
  } as unknown as Plan;
  const host: OutageHost = {
    dev,
    rec,
    plan,
    tearingDown: false,
    now: () => nowUs,
    at: () => {},
    soon: () => {},
    fleet: {} as OutageHost['fleet'],
  };
  const p = new OutagePlayer(host);
  return {
    p,
    dev,
    setNow: (us: number) => (nowUs = us),
    /** A loss heard now, of an exchange that began now (a reset, not a keepalive death). */
    join: (slot: number) => p.joinTargetOutage(slot, nowUs, nowUs),
    hit: () => rec.flush(0, 0, 0).outages['0']?.dropped ?? 0,
  };
}

describe('target-side outages join the devices they drop', () => {
  it('a 0-second outage ("the server drops everyone") hits the devices that hear of it just after', () => {
    const o = player({ atUs: 5_000_000, offlineUs: 0 }, 3);
    o.p.start(0, 5_000_000);
    o.setNow(5_000_800); // the reset arrives 0.8 ms after the target sent it
    o.join(0);
    o.setNow(5_000_000 + JOIN_SLACK_US);
    o.join(1);
    o.setNow(5_000_001 + JOIN_SLACK_US); // a loss later than that is not the outage's
    o.join(2);
    expect(o.hit()).toBe(2);
    expect([...o.dev.outageOf]).toEqual([0, 0, NO_OUTAGE]);
    expect([...o.dev.attemptsSinceDrop]).toEqual([0, 0, 3]);
  });

  it('a silent outage hits the devices reset at its end', () => {
    const o = player({ atUs: 5_000_000, offlineUs: 10_000_000 }, 2);
    o.p.start(0, 5_000_000);
    o.setNow(4_999_999); // before the outage: not its hit
    o.join(0);
    o.setNow(15_002_000); // the target resets silenced sockets when the outage ends
    o.join(1);
    expect(o.hit()).toBe(1);
  });

  it('counts a device once', () => {
    const o = player({ atUs: 1_000_000, offlineUs: 2_000_000 }, 1);
    o.p.start(0, 1_000_000);
    o.setNow(1_500_000);
    o.join(0);
    o.setNow(1_600_000);
    o.join(0);
    expect(o.hit()).toBe(1);
  });
});
