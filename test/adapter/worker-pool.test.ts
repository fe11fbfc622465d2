/**
 * Workers forked ahead of the coordinator (while the embedded target starts): they warm up on
 * their own, the coordinator adopts them and runs as with workers of its own, one that died before
 * it was adopted fails the run at once, and a pool never adopted leaves no process behind. Real
 * worker processes against a real broker (aedes) on a loopback port.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { aedesOnLoopback, oneShardOptions } from '../helpers/aedes.js';
import { Coordinator } from '../../src/engine/coordinator.js';
import { WorkerPool } from '../../src/engine/worker-pool.js';
import { loadScenario } from '../../src/scenario/load.js';

const broker = aedesOnLoopback();

function coordinator(workers: number, pool: WorkerPool): Coordinator {
  const dir = mkdtempSync(join(tmpdir(), 'herd-pool-'));
  const path = join(dir, 's.yaml');
  writeFileSync(
    path,
    `name: pool\ntarget: ${broker.url()}\ndevices: 12\ndevice: { keepalive: 30s, connectTimeout: 5s }\nwaves:\n  - { type: spike }\nhold: 0s\n`,
  );
  return new Coordinator({ ...oneShardOptions('pool', loadScenario(path).resolved, broker.url(), workers), pool });
}

const exited = (c: ChildProcess): Promise<NodeJS.Signals | number | null> =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve(c.signalCode ?? c.exitCode)
    : new Promise((resolve) => c.once('exit', (code, signal) => resolve(signal ?? code)));

describe('worker pool', () => {
  it('workers forked and warmed ahead run the plan once adopted', async () => {
    const pool = WorkerPool.fork(2, true);
    const o = await coordinator(2, pool).run();
    expect(o.abort).toBeNull();
    expect(o.workerFailures).toEqual([]);
    expect(o.planned).toBe(12);
    expect(o.aggregate.totals.succeeded).toBe(12);
    // The coordinator owns them now: discarding the pool kills nothing.
    pool.discard();
    expect(o.workers.every((w) => !w.exitedEarly)).toBe(true);
  }, 60_000);

  it('a worker that died before it was adopted fails the run at once, and the others are ended', async () => {
    const pool = WorkerPool.fork(2, false);
    const [dead, alive] = pool.processes as [ChildProcess, ChildProcess];
    dead.kill('SIGKILL');
    await exited(dead);
    await expect(coordinator(2, pool).run()).rejects.toThrow('worker 0 exited before it was ready (SIGKILL)');
    expect(await exited(alive)).toBe('SIGKILL');
  }, 60_000);

  it('a pool never adopted (the target did not start) leaves no process behind', async () => {
    const pool = WorkerPool.fork(2, true);
    pool.discard();
    expect(await Promise.all(pool.processes.map(exited))).toEqual(['SIGKILL', 'SIGKILL']);
    expect(() => pool.adopt(2)).toThrow('worker pool adopted twice');
  });

  it('adopting the wrong number of workers is a programming error', () => {
    const pool = WorkerPool.fork(1, false);
    expect(() => pool.adopt(2)).toThrow('worker pool of 1, not 2');
    pool.discard();
  });
});
