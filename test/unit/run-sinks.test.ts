/**
 * herd run binds its loopback listeners before it creates --out: the metrics listener answers 503
 * until the run serves it, and a second listener that cannot be bound closes the first.
 */
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { emptyCounters } from '../../src/metrics/recorder.js';
import { openRunSinks } from '../../src/run/run-sinks.js';

const listen = (port: number): Promise<net.Server> =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
const close = (s: net.Server): Promise<void> => new Promise((r) => s.close(() => r()));

describe('run sinks', () => {
  it('the metrics listener says 503 before the run serves it, then the exposition', async () => {
    const sinks = await openRunSinks({ host: '127.0.0.1', port: 0 }, null);
    try {
      const url = sinks.metrics?.url as string;
      const before = await fetch(url);
      expect([before.status, before.headers.get('retry-after'), await before.text()]).toEqual([
        503,
        '1',
        'the run has not started\n',
      ]);
      sinks.metrics?.serve(() => ({
        runId: 'r1',
        scenario: 's',
        planned: 2,
        connectedNow: 1,
        totals: emptyCounters(),
        errors: [],
        last: null,
      }));
      const after = await fetch(url);
      expect(after.status).toBe(200);
      expect(await after.text()).toContain('herd_run_info{run_id="r1",scenario="s"} 1');
      expect(sinks.webhook).toBeNull();
    } finally {
      await sinks.close();
    }
  });

  it('a webhook port already taken: E_FLAG naming the flag, and the metrics port it had bound is free again', async () => {
    const busy = await listen(0);
    const probe = await listen(0);
    const metricsPort = (probe.address() as net.AddressInfo).port;
    await close(probe);
    const webhookPort = (busy.address() as net.AddressInfo).port;
    try {
      const err = await openRunSinks(
        { host: '127.0.0.1', port: metricsPort },
        { host: '127.0.0.1', port: webhookPort },
      ).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'E_FLAG',
        message: `--webhook-sink: cannot listen on 127.0.0.1:${webhookPort} (EADDRINUSE)`,
      });
      // The metrics listener was bound first and closed when the second failed.
      await close(await listen(metricsPort));
    } finally {
      await close(busy);
    }
  });
});
