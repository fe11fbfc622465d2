/**
 * The embedded target's warm-up: every round gets its CONNACK on both protocol versions (3.1.1
 * straight to aedes, 5 through the bridge), and a target that warmed up starts with nothing of it
 * counted — no accept, connection, session, handshake, refusal or takeover on its metrics page — so
 * its first real device is its first count. (The admission tests in target-knobs.test.ts show the
 * run's own admission is untouched: a burst of 1 still admits exactly the first real CONNECT.)
 */
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnEmbeddedTarget, type EmbeddedTarget } from '../../src/target/spawn.js';
import { warmUpTarget } from '../../src/target/warm-up.js';
import { getText, rawConnect, sample } from './target-helpers.js';

let target: EmbeddedTarget | null = null;
afterEach(async () => {
  await target?.stop();
  target = null;
});

describe('target warm-up', () => {
  it('serves every round it is asked for, MQTT 3.1.1 and 5 alike', async () => {
    // A bound no busy machine reaches: the count is what is tested, not how fast the rounds go.
    expect(await warmUpTarget('127.0.0.1', 16, 120_000)).toBe(16);
  });

  it('leaves nothing counted: the first real device is the first on the metrics page', async () => {
    target = await spawnEmbeddedTarget({});
    const page = await getText(target.metricsUrl);
    for (const listener of ['mqtt', 'ws']) {
      expect(sample(page, 'herd_target_accepts_total', { listener }), listener).toBe(0);
      expect(sample(page, 'herd_target_connections', { listener }), listener).toBe(0);
    }
    for (const name of [
      'herd_target_mqtt_sessions',
      'herd_target_handshakes_in_progress',
      'herd_target_takeovers_total',
    ])
      expect(sample(page, name), name).toBe(0);
    expect(page).not.toMatch(/herd_target_refusals_total\{[^}]*\} [1-9]/);
    const held: net.Socket[] = [];
    expect(await rawConnect(target.port, { version: 4, clientId: 'first', keep: (s) => held.push(s) })).toEqual({
      kind: 'connack',
      code: 0,
    });
    const after = await getText(target.metricsUrl);
    expect(sample(after, 'herd_target_accepts_total', { listener: 'mqtt' })).toBe(1);
    expect(sample(after, 'herd_target_mqtt_sessions')).toBe(1);
    for (const s of held) s.destroy();
  });
});
