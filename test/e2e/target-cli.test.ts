/** `herd target` as a user runs it: prints its endpoints, serves them, stops on Ctrl-C. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HERD_BIN, ROOT, runHerd } from '../helpers/cli.js';
import { pidAlive, rawConnect, waitFor } from '../adapter/target-helpers.js';

function startTargetCli(
  args: string[],
): Promise<{ out: () => string; stop: () => Promise<number | null>; pid: number }> {
  const child = spawn(process.execPath, [HERD_BIN, 'target', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return waitFor(() => out.includes('Ctrl-C to stop') || child.exitCode !== null, 20_000, 'herd target to start').then(
    () => ({
      out: () => out,
      pid: child.pid ?? -1,
      stop: async () => {
        child.kill('SIGINT');
        return exited;
      },
    }),
  );
}

describe('herd target', () => {
  for (const profile of ['fragile', 'protected'] as const) {
    it(`--profile ${profile} prints every endpoint, serves MQTT, and stops on SIGINT leaving no process`, async () => {
      const t = await startTargetCli(['--profile', profile, '--processes', '2', '--tls']);
      const text = t.out();
      expect(text).toContain(`profile ${profile}, 2 processes`);
      const mqttUrls = [...text.matchAll(/mqtt +(mqtt:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]!);
      expect(mqttUrls).toHaveLength(2);
      expect(text).toMatch(/mqtts +mqtts:\/\/127\.0\.0\.1:\d+/);
      expect(text).toMatch(/ws +ws:\/\/127\.0\.0\.1:\d+\/ws/);
      expect(text).toMatch(/metrics +http:\/\/127\.0\.0\.1:\d+\/metrics/);
      const childPids = [...text.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
      expect(childPids).toHaveLength(2);
      const code = await rawConnect(Number(new URL(mqttUrls[0]!).port), { version: 4, clientId: 'cli' });
      expect(code).toEqual({ kind: 'connack', code: 0 });
      expect(await t.stop()).toBe(0);
      expect(t.out()).toContain('herd target stopped');
      await waitFor(() => childPids.every((p) => !pidAlive(p)), 5_000, 'target processes gone');
    });
  }

  it('rejects a bad flag with exit 2 naming the flag', async () => {
    const r = await runHerd(['target', '--handshake-cost-ms', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--handshake-cost-ms');
    // Never listened on: herd must refuse a non-loopback host before binding anything.
    const r2 = await runHerd(['target', '--host', '10.1.2.3']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--host');
  });
});
