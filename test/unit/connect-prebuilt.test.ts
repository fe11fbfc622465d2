/**
 * Each device's CONNECT is built once and kept by slot (protocols/mqtt/packet-slab.ts): the worker
 * builds them all before the run (engine/device-table.ts prebuildOwn), and every attempt then
 * sends the very bytes a fresh build would, for every cohort and identity template.
 */
import { describe, expect, it } from 'vitest';
import { prebuildOwn, prepareKinds } from '../../src/engine/device-table.js';
import { buildPlan } from '../../src/plan/plan.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { PacketSlab } from '../../src/protocols/mqtt/packet-slab.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { expandTemplate } from '../../src/scenario/template.js';
import { keepaliveSeconds } from '../../src/util/duration.js';

const SCENARIO = {
  name: 'prebuilt',
  cohorts: [
    { name: 'a', share: '50%', device: { clientId: 'a-{id}', keepalive: '30s' } },
    {
      name: 'b',
      share: '50%',
      device: { clientId: 'b-{worker}-{id%7}-{id}', username: 'u{id}', password: 'p{id}', mqttVersion: 5 },
    },
  ],
  devices: 2_000,
  waves: [{ type: 'spike' }],
  hold: '1s',
};

describe('CONNECT built once per device', () => {
  it('a slab keeps each slot’s bytes, across growth, apart from every other slot', () => {
    const slab = new PacketSlab();
    const packets = Array.from({ length: 500 }, (_, i) => Buffer.from(`packet-${i}-`.repeat(1 + (i % 5))));
    // Out of order and sparse, so both the rows and the bytes grow several times.
    const order = packets.map((_, i) => (i * 37) % packets.length);
    const views = new Map<number, Buffer>();
    for (const slot of order) views.set(slot, slab.put(slot * 3, packets[slot] as Buffer));
    for (const [slot, view] of views) {
      expect(view.equals(packets[slot] as Buffer)).toBe(true);
      expect(slab.get(slot * 3)?.equals(packets[slot] as Buffer)).toBe(true);
    }
    expect(slab.get(1)).toBeNull();
    expect(slab.get(5_000)).toBeNull();
  });

  it('prebuilt before the run, every attempt of every device sends what a fresh build would', () => {
    const resolved = validateScenario(SCENARIO, 'prebuilt.yaml').resolved;
    const plan = buildPlan(resolved);
    // Worker 1 of 2: ids 1, 3, 5… in slots 0, 1, 2…
    const ids = Uint32Array.from({ length: plan.devices / 2 }, (_, k) => 2 * k + 1);
    const spec = { scenario: resolved, runId: 'r1', workerIndex: 1 };
    const fresh = prepareKinds(spec, expandTemplate);
    const kinds = prepareKinds(spec, expandTemplate);
    prebuildOwn(kinds, ids, plan.cohortOf);
    // Nothing is built after the prebuild: every attempt's view is into the one slab of its cohort
    // as the prebuild left it (~30 KB per cohort here, so a build during the run would have grown it).
    const slabs = [0, 1].map((k) => {
      const slot = ids.findIndex((id) => plan.cohortOf[id] === k);
      return (kinds[k]?.own(ids[slot] as number, slot) as { connectPacket: Buffer }).connectPacket.buffer;
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      ids.forEach((id, slot) => {
        const k = plan.cohortOf[id] as number;
        const own = kinds[k]?.own(id, slot) as { connectPacket: Buffer };
        const built = fresh[k]?.own(id, 10_000 + slot) as { connectPacket: Buffer };
        expect(own.connectPacket.equals(built.connectPacket)).toBe(true);
        expect(own.connectPacket.buffer).toBe(slabs[k]);
      });
    }
    // Spot-check one against the encoder itself: cohort b's templates, MQTT 5.
    const id = ids.find((x) => plan.cohortOf[x] === 1) as number;
    const slot = ids.indexOf(id);
    const b = resolved.cohorts[1]?.device;
    if (b === undefined) throw new Error('no cohort b');
    const expected = buildConnect({
      clientId: `b-1-${id % 7}-${id}`,
      username: `u${id}`,
      password: `p${id}`,
      keepaliveS: keepaliveSeconds(b.keepaliveUs),
      clean: b.cleanSession,
      protocolVersion: 5,
      ...(b.sessionExpiryS !== null ? { sessionExpiryIntervalS: b.sessionExpiryS } : {}),
    });
    expect((kinds[1]?.own(id, slot) as { connectPacket: Buffer }).connectPacket.equals(expected)).toBe(true);
  });
});
