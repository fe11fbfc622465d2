/**
 * Issue 5 through the real CLI: plain WebSocket devices and MQTT over secure WebSocket (TLS with
 * session resumption) against the embedded target, with their phases timed apart.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { runHerd } from '../helpers/cli.js';

async function run(body: string): Promise<{ code: number | null; r: Results }> {
  const dir = mkdtempSync(join(tmpdir(), 'herd-transport-'));
  writeFileSync(join(dir, 's.yaml'), body);
  // A TLS reconnect burst on a busy 2-core machine may flag the harness; these tests check phases.
  const res = await runHerd([
    'run',
    join(dir, 's.yaml'),
    '--out',
    join(dir, 'out'),
    '--workers',
    '1',
    '--allow-saturated',
    '-q',
  ]);
  expect(res.stderr).not.toMatch(/internal error/);
  const [id] = readdirSync(join(dir, 'out'));
  return {
    code: res.code,
    r: JSON.parse(readFileSync(join(dir, 'out', id as string, 'results.json'), 'utf8')) as Results,
  };
}

describe('transports through herd run', () => {
  it('plain WebSocket devices upgrade, say hello, keep alive with ping/pong and close cleanly', async () => {
    const { code, r } = await run(
      'name: ws-fleet\ndevices: 200\ndevice: { protocol: websocket, hello: "hello {id}", keepalive: 1s }\nwaves:\n  - { type: ramp, over: 1s }\nhold: 3s\n',
    );
    expect(code).toBe(0);
    expect(r.attempts).toMatchObject({ planned: 200, succeeded: 200, failed: 0, timedOut: 0 });
    expect(r.latency['phase.wsUpgrade']?.count).toBe(200);
    expect(r.latency['phase.mqttConnack']?.count).toBe(0);
    expect(r.storm.disconnects).toBe(0); // keepalive pongs kept every session alive
  });

  it('MQTT over wss: TLS full and resumed handshakes are timed apart', async () => {
    const { code, r } = await run(`name: wss-fleet
devices: 100
target:
  embedded: { tls: true }
device: { transport: wss, keepalive: 30s, tls: { resume: 1 } }
reconnect: { policy: fixed, delay: 200ms }
waves:
  - { type: ramp, over: 1s }
  - { type: outage, at: 2s, offline: 1s, mode: reset }
hold: 3s
`);
    expect(code).toBe(0);
    expect(r.attempts.succeeded).toBe(200);
    // First connects are full handshakes; every reconnect offered (resume: 1) and resumed its session.
    expect(r.latency['phase.tlsFull']?.count).toBe(100);
    expect(r.latency['phase.tlsResumed']?.count).toBe(100);
    expect(r.latency['phase.wsUpgrade']?.count).toBe(200);
    expect(r.latency['phase.mqttConnack']?.count).toBe(200);
    expect(r.outages[0]).toMatchObject({ dropped: 100, recovered: 100 });
  });
});

describe('cloud → device requests', () => {
  it('every request a connected device gets is answered, and the round trip is timed', async () => {
    const { code, r } = await run(
      'name: requests\ndevices: 100\ndevice: { keepalive: 30s, requests: { every: 500ms, qos: 1 } }\nwaves:\n  - { type: ramp, over: 1s }\nhold: 4s\nthresholds:\n  requests.lost: ["== 0"]\n  request.roundTrip: ["p(99) < 5s"]\n',
    );
    expect(code).toBe(0);
    // How many requests the target's timers sent in 4 s depends on how busy the machine is (273 to
    // ~800 seen); what this test claims does not: requests flowed (at least one per device's worth)
    // and every one sent was answered and timed.
    expect(r.requests?.sent).toBeGreaterThanOrEqual(100);
    expect(r.requests?.answered).toBe(r.requests?.sent);
    expect(r.latency['request.roundTrip']?.count).toBe(r.requests?.answered);
    expect(r.thresholds.every((t) => t.passed)).toBe(true);
  });
});
