/**
 * Sharded runs merge exactly: 4 shard processes started together (--start-at) against one target,
 * merged with `herd merge`, account for exactly the attempts of one unsharded run of the same plan,
 * and the merged histograms are the exact sum of the shards' (percentiles within HDR precision of
 * the union of the shards' raw data).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHistogram, decodeHistogram } from '../../src/metrics/histogram.js';
import type { Results } from '../../src/results/types.js';
import { runHerd, startHerdTarget, expectExit } from '../helpers/cli.js';
import { herdInProcess } from '../helpers/in-process.js';

const SCENARIO = `name: shard-test
devices: 800
seed: 11
device: { keepalive: 30s }
waves:
  - { type: ramp, over: 2s }
hold: 2s
thresholds:
  # A count, not a latency: each shard's 200 and the merge's 800 pass on any machine, so the
  # merge's own evaluation of the summed histogram is what the test sees.
  connect.total: ["count >= 200"]
`;

function readOne(dir: string): Results {
  const [run] = readdirSync(dir).filter((d) => !d.startsWith('.'));
  return JSON.parse(readFileSync(join(dir, run as string, 'results.json'), 'utf8')) as Results;
}

describe('sharded runs and herd merge', () => {
  let target: Awaited<ReturnType<typeof startHerdTarget>>;
  let url: string;
  beforeAll(async () => {
    target = await startHerdTarget();
    url = target.url;
  });
  afterAll(() => {
    target?.stop();
  });

  it('4 merged shards equal one unsharded run of the same plan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herd-shards-'));
    const file = join(dir, 's.yaml');
    writeFileSync(file, SCENARIO);
    // --allow-saturated on every run: exactness of the merge is tested, and four shards share the cores.
    const whole = await runHerd(['run', file, '--target', url, '--out', join(dir, 'whole'), '-q', '--allow-saturated']);
    expectExit(whole, 0);
    // Far enough ahead that four processes starting on busy cores are all waiting when it comes.
    const startAt = new Date(Date.now() + 20_000).toISOString();
    const shards = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        runHerd([
          'run',
          file,
          '--target',
          url,
          '--shard',
          `${i}/4`,
          '--start-at',
          startAt,
          '--workers',
          '1',
          '--out',
          join(dir, `shard-${i}`),
          '-q',
          '--allow-saturated',
        ]),
      ),
    );
    for (const s of shards) expectExit(s, 0);
    const parts = [1, 2, 3, 4].map((i) => readOne(join(dir, `shard-${i}`)));
    expect(parts.map((p) => [p.run.shard, p.attempts.planned])).toEqual(
      [1, 2, 3, 4].map((i) => [{ index: i, count: 4 }, 200]),
    );
    // Each shard records how far its origin fell from --start-at. No timer waits for it: a shard
    // ready in time places its origin on the agreed instant of the monotonic clock, so it is 0
    // exactly (only a shard still starting at that instant would record how late it was).
    for (const p of parts) expect(p.run.clockOffsetMs).toBe(0);

    const files = [1, 2, 3, 4].map((i) => {
      const [run] = readdirSync(join(dir, `shard-${i}`));
      return join(dir, `shard-${i}`, run as string, 'results.json');
    });
    const out = join(dir, 'merged.json');
    const merged = await herdInProcess(['merge', ...files, '-o', out]);
    expectExit(merged, 0);
    const m = JSON.parse(readFileSync(out, 'utf8')) as Results;
    expect(m.run.allowSaturated).toBe(true);
    const w = readOne(join(dir, 'whole'));
    expect(m.attempts).toEqual(w.attempts);
    expect(m.accounting.balanced).toBe(true);
    expect(m.run.mergedFrom).toHaveLength(4);
    expect(m.latency['connect.total']?.count).toBe(w.latency['connect.total']?.count);
    expect(m.thresholds.map((t) => t.passed)).toEqual([true]);
    // Exactness: the merged histogram is the sum of the shards'.
    const union = createHistogram();
    for (const p of parts) union.add(decodeHistogram(p.latency['connect.total']!.histogram));
    expect(m.latency['connect.total']?.p99Us).toBe(union.getValueAtPercentile(99));
    expect(m.latency['connect.total']?.maxUs).toBe(union.maxValue);
    expect(m.timeline.buckets.reduce((a, b) => a + b.attempts, 0)).toBe(800);

    // Missing or duplicated shards are refused with exit 2.
    const missing = await herdInProcess(['merge', ...files.slice(1), '-o', join(dir, 'x.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('shard 1/4 is missing');
    const dup = await herdInProcess(['merge', files[0] as string, ...files, '-o', join(dir, 'y.json')]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('shard 1/4 appears twice');
  }, 120_000);

  it('rejects a bad --shard and --start-at, naming the flag', async () => {
    const bad = await herdInProcess(['run', 'scenarios/quickstart.yaml', '--shard', '5/4']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--shard: expected I/N with 1 ≤ I ≤ N ≤ 10000, e.g. 3/8, got "5/4"');
    const t = await herdInProcess(['run', 'scenarios/quickstart.yaml', '--start-at', 'tomorrow']);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('--start-at: expected an ISO 8601 time with a time zone');
  });
});
