/**
 * Issue 16, session-takeover storms. (1) Devices sharing client ids (`{id%N}`): every connect takes
 * the id from the device holding it, the kicked MQTT 5 device hears DISCONNECT 0x8E, counts it as
 * taken over, and comes back by its policy — which kicks the next one: a storm that never settles.
 * (2) A second connection per client id: a `reboot` outage abandons each connection without a
 * word, so the target still holds it when the device reconnects and must take it over; a `reset`
 * outage closes it first. Observed from the broker's side with aedes in this process: at each
 * CONNECT, is the client id still held? Last, scenarios/takeover-storm.yaml behaves as its header says.
 */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExit, ROOT } from '../helpers/cli.js';
import { runScenario } from '../helpers/in-process.js';

const run = (yaml: string, extra: string[] = []) => runScenario({ yaml }, ['--workers', '1', ...extra]);

describe('session-takeover storms', () => {
  it('devices sharing client ids keep taking them from each other (embedded target, MQTT 5)', async () => {
    const { res, r } = await run(`name: cloned-ids
seed: 1
devices: 20
device: { clientId: "{run}-cloned-{id%5}", mqttVersion: 5 }
reconnect: { policy: fixed, delay: 1s, jitter: none }
waves:
  - { type: ramp, over: 1s }
hold: 5s
`);
    expectExit(res, 0);
    const taken = r.serverSignals.takenOver ?? 0;
    // 4 devices per id: the ramp alone takes each id over 3 times; every kicked device comes back a
    // second later and kicks the next holder, so attempts keep coming long after the ramp.
    expect(taken).toBeGreaterThanOrEqual(15);
    expect(r.serverSignals.DISCONNECT_8E).toBe(taken);
    expect(r.errors.find((e) => e.code === 'DISCONNECT_8E')?.count).toBe(taken);
    expect(r.attempts.started).toBeGreaterThanOrEqual(2 * 20);
    expect(r.timeline.buckets.slice(3, 5).every((b) => b.attempts > 0)).toBe(true);
    expect(r.accounting.balanced).toBe(true);
  });

  describe('a second connection per client id (aedes in this process, MQTT 3.1.1 persistent sessions)', () => {
    let server: Server;
    let port = 0;
    /** CONNECTs that found their client id still held by an open connection, and all CONNECTs. */
    const seen = { heldAtConnect: 0, connects: 0 };
    let broker: Aedes;

    beforeAll(async () => {
      broker = await Aedes.createBroker();
      broker.preConnect = (client, packet, done) => {
        if (packet.cmd === 'connect' && packet.clientId.includes('-dev-')) {
          seen.connects++;
          if ((broker as unknown as { clients: Record<string, unknown> }).clients[packet.clientId] !== undefined)
            seen.heldAtConnect++;
        }
        done(null, true);
      };
      server = createServer(broker.handle);
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      port = (server.address() as { port: number }).port;
    });
    afterAll(async () => {
      await new Promise<void>((ok) => server.close(() => ok()));
      await new Promise<void>((ok) => broker.close(() => ok()));
    });

    const scenario = (mode: string) => `name: second-connection-${mode}
seed: 1
devices: 30
device: { clientId: "{run}-dev-{id}", cleanSession: false, keepalive: 30s }
reconnect: { policy: fixed, delay: 500ms, jitter: none }
waves:
  - { type: ramp, over: 1s }
  - { type: outage, at: 3s, offline: 2s, mode: ${mode} }
hold: 3s
`;

    const runAgainstAedes = (mode: string) => {
      seen.heldAtConnect = 0;
      seen.connects = 0;
      return run(scenario(mode), ['--target', `mqtt://127.0.0.1:${port}`]);
    };

    it('reboot: the target still holds every old connection when the device comes back, and takes it over', async () => {
      const { res, r } = await runAgainstAedes('reboot');
      expectExit(res, 0);
      expect(seen.connects).toBe(60);
      expect(seen.heldAtConnect).toBe(30);
      expect(r.outages[0]).toMatchObject({ mode: 'reboot', dropped: 30, recovered: 30 });
      expect(r.errors).toEqual([]); // the abandoned connections are nobody's error
      expect(r.storm.disconnects).toBe(0);
    });

    it('reset: the old connection is gone before the device comes back', async () => {
      const { res, r } = await runAgainstAedes('reset');
      expectExit(res, 0);
      expect(seen.connects).toBe(60);
      expect(seen.heldAtConnect).toBe(0);
      expect(r.outages[0]).toMatchObject({ mode: 'reset', dropped: 30, recovered: 30 });
    });
  });

  it('scenarios/takeover-storm.yaml: rebooted devices settle after one takeover each, cloned ids never do (FAILED on sessions.lostRate)', async () => {
    const { res, r } = await runScenario({ file: join(ROOT, 'scenarios', 'takeover-storm.yaml') });
    expectExit(res, 1);
    expect(r.thresholds.find((t) => t.metric === 'sessions.lostRate')).toMatchObject({ passed: false });
    expect(r.outages[0]).toMatchObject({ name: 'watchdog-reboot', mode: 'reboot', dropped: 300, recovered: 300 });
    expect(r.cohorts.unique!.errors).toEqual([]);
    const cloned = r.cohorts.cloned!;
    const kicked = cloned.errors.find((e) => e.code === 'DISCONNECT_8E')?.count ?? 0;
    expect(cloned.errors).toEqual([{ origin: 'protocol', phase: 'held', code: 'DISCONNECT_8E', count: kicked }]);
    expect(r.serverSignals.takenOver).toBe(kicked);
    // The storm is a loop only the teardown ends; how many turns it makes in 33 s is the machine's speed
    // (~90 a second, 9 devices per id back every second, when connects take a few ms), measured by
    // bench/takeover-storm.js, not asserted here. What is exact whatever the speed:
    // - only takeovers end cloned sessions, and every attempt of theirs succeeds or is still in flight;
    expect(cloned.attempts).toMatchObject({ failed: 0, timedOut: 0 });
    expect(cloned.attempts.started - cloned.attempts.succeeded).toBeLessThanOrEqual(r.attempts.inFlightAtEnd);
    // - the fleet coming online alone takes each of the 10 ids over 9 times (the plan's 100 connects,
    //   all over by 10 s, 23 s before the teardown);
    expect(kicked).toBeGreaterThanOrEqual(90);
    // - a takeover needs a connect: each one but the first per id takes its id from one holder;
    expect(kicked).toBeLessThanOrEqual(cloned.attempts.succeeded + r.attempts.inFlightAtEnd - 10);
    // - every kicked device comes back by its fixed 1 s policy, which never gives up: a cloned
    //   reconnect follows a kick, and a kick not followed by one is a device still waiting out its
    //   second at the teardown (at most all 100).
    const clonedReconnects = cloned.attempts.started - 100;
    expect(clonedReconnects).toBeLessThanOrEqual(kicked);
    expect(clonedReconnects).toBeGreaterThanOrEqual(kicked - 100);
    expect(r.attempts.gaveUp).toBe(0);
  });
});
