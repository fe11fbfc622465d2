/**
 * The end of a run cannot race the workers' last messages: a worker that finished and exited
 * cleanly is never taken for a dead one, and one that left without its final results always is.
 * Real worker processes against a real broker (aedes) on a loopback port.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aedesOnLoopback, oneShardOptions } from '../helpers/aedes.js';
import { Coordinator, type RunOutcome } from '../../src/engine/coordinator.js';
import { loadScenario } from '../../src/scenario/load.js';
import type { ResolvedScenario } from '../../src/results/resolved-scenario.js';
import { ROOT } from '../helpers/cli.js';

const broker = aedesOnLoopback();

function scenario(devices: number): ResolvedScenario {
  const dir = mkdtempSync(join(tmpdir(), 'herd-shutdown-'));
  const path = join(dir, 's.yaml');
  writeFileSync(
    path,
    `name: shutdown\ntarget: ${broker.url()}\ndevices: ${devices}\ndevice: { keepalive: 30s, connectTimeout: 5s }\nwaves:\n  - { type: spike }\nhold: 1s\n`,
  );
  return loadScenario(path).resolved;
}

/**
 * Without the warm-up: its 512 handshakes per worker against the worker's own listener end before
 * the origin is placed and have no part in how a run ends, which is what these tests are about.
 */
function coordinator(s: ResolvedScenario, workers: number, workerScript?: string, workerArgs?: string[]): Coordinator {
  return new Coordinator({
    ...oneShardOptions('shutdown', s, broker.url(), workers),
    warmUp: false,
    ...(workerScript !== undefined ? { workerScript } : {}),
    ...(workerArgs !== undefined ? { workerArgs } : {}),
  });
}

function describeOutcome(o: RunOutcome): string {
  return JSON.stringify({ abort: o.abort, failures: o.workerFailures, lost: o.lostToHarness });
}

describe('coordinator shutdown', () => {
  it('many short runs with many workers: every clean finish is seen as one (no false abort)', async () => {
    const s = scenario(48);
    for (let run = 0; run < 12; run++) {
      const o = await coordinator(s, 8).run();
      expect(o.abort, describeOutcome(o)).toBeNull();
      expect(o.workerFailures, describeOutcome(o)).toEqual([]);
      expect(o.lostToHarness).toBe(0);
      expect(o.workers.every((w) => !w.exitedEarly)).toBe(true);
      expect(o.aggregate.totals.succeeded, describeOutcome(o)).toBe(48);
    }
  }, 180_000);

  it('a worker that exits the instant its final message is written is a clean finish', async () => {
    const s = scenario(8);
    const script = join(ROOT, 'test', 'helpers', 'worker-exits-after-done.mjs');
    for (let run = 0; run < 10; run++) {
      const o = await coordinator(s, 8, script).run();
      expect(o.abort, describeOutcome(o)).toBeNull();
      expect(o.workerFailures).toEqual([]);
    }
  }, 120_000);

  it('a worker that exits with code 0 but never sent its results is a death, and says so', async () => {
    const s = scenario(8);
    const script = join(ROOT, 'test', 'helpers', 'worker-exits-after-done.mjs');
    const o = await coordinator(s, 2, script, ['silent']).run();
    expect(o.abort?.kind).toBe('worker-failed');
    expect(o.workerFailures.join('\n')).toMatch(/worker \d exited unexpectedly \(code 0\)/);
  }, 60_000);
});
