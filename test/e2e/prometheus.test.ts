/** Issue 6: a run in progress can be scraped by Prometheus on loopback (--metrics-port). */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HERD_BIN, ROOT } from '../helpers/cli.js';
import { waitFor } from '../helpers/procs.js';

describe('live Prometheus metrics', () => {
  it('serves the run while it runs, and stops serving when it ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herd-prom-'));
    writeFileSync(join(dir, 's.yaml'), 'name: prom\ndevices: 300\nwaves:\n  - { type: ramp, over: 2s }\nhold: 5s\n');
    const child = spawn(
      process.execPath,
      [
        HERD_BIN,
        'run',
        join(dir, 's.yaml'),
        '--metrics-port',
        '0',
        '--out',
        join(dir, 'out'),
        '--workers',
        '1',
        '--allow-saturated',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, CI: '1', NO_COLOR: '1' },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    expect(await waitFor(() => /metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/.test(stderr), 15_000)).toBe(true);
    const url = /metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stderr)?.[1] as string;
    // Scraped until the whole fleet is connected (the hold keeps it there for 5 s), as Prometheus
    // would scrape it: no guess at how long the ramp takes on a busy machine.
    let text = '';
    let contentType: string | null = null;
    const connected = async (): Promise<boolean> => {
      const res = await fetch(url);
      contentType = res.headers.get('content-type');
      text = await res.text();
      return text.includes('herd_devices_connected 300\n');
    };
    const end = Date.now() + 30_000;
    while (!(await connected()) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(contentType).toContain('text/plain; version=0.0.4');
    expect(text).toContain('herd_run_info{run_id="');
    expect(text).toContain('scenario="prom"} 1');
    expect(text).toContain('herd_devices_planned 300');
    expect(text).toContain('herd_devices_connected 300');
    expect(text).toContain('herd_attempts_total{outcome="succeeded"} 300');
    expect(text).toMatch(/# TYPE herd_errors_total counter/);
    expect(text).toMatch(/herd_harness_loop_delay_seconds \d/);
    expect(await exited, stderr).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  }, 60_000);
});
