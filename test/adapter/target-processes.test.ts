/** processes: N, the merged /metrics page, and no orphan left behind. */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnEmbeddedTarget, type EmbeddedTarget } from '../../src/target/spawn.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/cli.js';
import { getText, pidAlive, rawConnect, sample, waitFor } from './target-helpers.js';

let target: EmbeddedTarget | null = null;
afterEach(async () => {
  await target?.stop();
  target = null;
});

describe('scale-out over processes', () => {
  it('runs N broker processes on N sets of ports, each accepting; stop() leaves no process behind', async () => {
    target = await spawnEmbeddedTarget({ processes: 3 });
    const pids = target.pids;
    expect(new Set(pids).size).toBe(3);
    expect(pids).not.toContain(process.pid);
    const mqttPorts = target.endpoints.filter((e) => e.kind === 'mqtt').map((e) => Number(new URL(e.url).port));
    expect(new Set(mqttPorts).size).toBe(3);
    for (const [i, port] of mqttPorts.entries()) {
      expect(await rawConnect(port, { version: 4, clientId: `p${i}` })).toEqual({ kind: 'connack', code: 0 });
    }
    const page = await getText(target.metricsUrl);
    for (const i of [0, 1, 2])
      expect(sample(page, 'herd_target_accepts_total', { process: String(i), listener: 'mqtt' })).toBe(1);
    expect(pids.every(pidAlive)).toBe(true);
    await target.stop();
    expect(pids.filter(pidAlive)).toEqual([]);
  });

  it('the children exit when their parent dies without stopping them (no orphans)', async () => {
    const spawnJs = pathToFileURL(join(ROOT, 'dist', 'target', 'spawn.js')).href;
    const parent = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { spawnEmbeddedTarget } from ${JSON.stringify(spawnJs)}; const t = await spawnEmbeddedTarget({ processes: 2 }); console.log(JSON.stringify(t.pids)); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pids = await new Promise<number[]>((resolve, reject) => {
      parent.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as number[]));
      parent.once('exit', (code) => reject(new Error(`parent exited early (code ${code})`)));
    });
    expect(pids.every(pidAlive)).toBe(true);
    parent.kill('SIGKILL');
    await waitFor(() => pids.every((p) => !pidAlive(p)), 10_000, 'children to exit after the parent died');
  });
});

describe('/metrics', () => {
  it('exposes connections, accepts, refusals by reason, handshake queue and outages in Prometheus text format', async () => {
    target = await spawnEmbeddedTarget({ maxConnections: 1, admission: { ratePerS: 1000, burst: 10, queue: 5 } });
    const keep: Array<{ destroy(): void }> = [];
    await rawConnect(target.port, { version: 4, clientId: 'one', keep: (s) => keep.push(s) });
    await rawConnect(target.port, { version: 4, clientId: 'two' });
    const page = await getText(target.metricsUrl);
    for (const family of [
      'herd_target_connections',
      'herd_target_accepts_total',
      'herd_target_refusals_total',
      'herd_target_handshakes_queued',
      'herd_target_handshakes_in_progress',
      'herd_target_outages_active',
      'herd_target_mqtt_sessions',
    ]) {
      expect(page).toMatch(new RegExp(`^# TYPE ${family} (counter|gauge)$`, 'm'));
    }
    expect(sample(page, 'herd_target_accepts_total', { listener: 'mqtt' })).toBe(2);
    expect(sample(page, 'herd_target_connections', { listener: 'mqtt' })).toBe(1);
    expect(sample(page, 'herd_target_refusals_total', { reason: 'max_connections' })).toBe(1);
    expect(sample(page, 'herd_target_mqtt_sessions')).toBe(1);
    expect(sample(page, 'herd_target_handshakes_queued')).toBe(0);
    expect(page).toMatch(/^herd_target_refusals_total\{process="0",reason="rate_exceeded"\} 0$/m);
    for (const s of keep) s.destroy();
  });
});
