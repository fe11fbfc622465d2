import { describe, expect, it } from 'vitest';
import {
  freshLoopbackSources,
  preflight,
  sourceIpsSpec,
  TIME_WAIT_WARN_PER_ADDRESS,
  type PreflightInput,
} from '../../src/engine/preflight.js';
import { embeddedRateCheck, sizeEmbeddedTarget } from '../../src/engine/embedded-capacity.js';
import { assertLocalSourceIps } from '../../src/util/source-ips.js';
import { hexToIpv4 } from '../../src/engine/system.js';

const facts = {
  cores: 2,
  freeMemoryBytes: 20 * 2 ** 30,
  openFileLimit: { soft: 20_000, hard: 20_000 },
  ephemeralPortRange: [32768, 60999] as [number, number],
  timeWaitByIp: new Map<string, number>(),
  loadAverage1m: 0,
};
const base: PreflightInput = {
  peakConcurrent: 1000,
  peakConnectRatePerS: 100,
  workers: null,
  sourceIps: [],
  targetHosts: ['127.0.0.1'],
  targetEndpoints: 1,
  facts,
};

describe('preflight', () => {
  it('passes a small plan with one worker per core at most', () => {
    const r = preflight(base);
    expect(r.problems).toEqual([]);
    expect(r.workers).toBe(2);
    expect(r.sourceIps).toEqual([]);
  });

  it('spreads loopback source addresses; with --workers enough for the open-file limit, runs them', () => {
    const r = preflight({ ...base, peakConcurrent: 100_000, workers: 6 });
    expect(r.workers).toBe(6); // 100,000 / (20,000 − 200 headroom) → 6 processes
    expect(r.sourceIps).toHaveLength(20); // ⌈100,000 / 5,000⌉
    expect(r.sourceIps[0]).toBe('127.0.0.2');
    expect(r.problems).toEqual([]);
    expect(r.advice).toContain(
      '--workers 6 on 2 cores: workers sharing cores lag sooner, and the run will say if that decided a threshold',
    );
  });

  it('never picks more workers than cores: a file limit that would need more is a problem naming both fixes', () => {
    expect(preflight({ ...base, peakConcurrent: 5_000 }).workers).toBe(2);
    expect(preflight({ ...base, peakConcurrent: 5_000 }).advice).toEqual([]);
    const low = preflight({ ...base, facts: { ...facts, openFileLimit: { soft: 300, hard: 300 } } });
    expect(low.workers).toBe(2);
    expect(low.problems).toEqual([
      'the plan holds 1000 connections but `ulimit -n` 300 allows 100 per worker, 200 for 2 workers (one per core): raise `ulimit -n` to 700, ' +
        'or pass --workers 10 (workers sharing cores lag sooner)',
    ]);
    const big = preflight({ ...base, peakConcurrent: 100_000 });
    expect(big.workers).toBe(2);
    expect(big.problems[0]).toBe(
      'the plan holds 100000 connections but `ulimit -n` 20000 allows 19800 per worker, 39600 for 2 workers (one per core): ' +
        'raise `ulimit -n` to 50200, or pass --workers 6 (workers sharing cores lag sooner)',
    );
    expect(preflight({ ...base, workers: 4 }).advice).toEqual([
      '--workers 4 on 2 cores: workers sharing cores lag sooner, and the run will say if that decided a threshold',
    ]);
  });

  it('refuses explicit settings that cannot work, saying what to change', () => {
    const r = preflight({ ...base, peakConcurrent: 100_000, workers: 2, sourceIps: ['127.0.0.2'] });
    expect(r.problems).toEqual([
      'each of 2 workers would hold 50000 connections but a process may open 20000 files: use --workers 6 or more, or raise `ulimit -n`',
      '100000 connections per source address exceed the 28232 ephemeral ports: use --source-ips 127.0.0.2-127.0.0.21',
    ]);
  });

  it('advises more source addresses only when their ephemeral ports run short, not for bind cost', () => {
    const two = ['127.0.0.2', '127.0.0.3'];
    // 10,000 per address: binding explicit ports costs what 2,000 did, so nothing to advise.
    expect(preflight({ ...base, peakConcurrent: 20_000, workers: 2, sourceIps: two }).advice).toEqual([]);
    // 23,000 per address: past 0.8 × 28,232 ports (22,585.6).
    const full = preflight({ ...base, peakConcurrent: 46_000, workers: 3, sourceIps: two });
    expect(full.problems).toEqual([]);
    expect(full.advice).toContain(
      '23000 connections per source address use most of its 28232 ephemeral ports: a port another socket holds ' +
        '(TIME_WAIT included) makes an attempt retry the next one, and a worker out of ports fails it (ESOURCEPORTS); ' +
        'use 10 or more --source-ips',
    );
  });

  it('avoids source addresses poisoned by TIME_WAIT and warns about explicit ones', () => {
    expect(freshLoopbackSources(3, new Map([['127.0.0.3', 18_700]]))).toEqual(['127.0.0.2', '127.0.0.4', '127.0.0.5']);
    const r = preflight({
      ...base,
      sourceIps: ['127.0.0.9'],
      facts: { ...facts, timeWaitByIp: new Map([['127.0.0.9', 18_700]]) },
    });
    expect(r.advice).toContain(
      'warning: 127.0.0.9 holds 18,700 TIME_WAIT sockets from earlier connections (they clear within ~60 s); connects from it are slower: use --source-ips 127.0.0.2',
    );
    // A warning, not a failed check: doctor prints "!" and still says it is ready.
    expect(r.checks.find((c) => c.name === 'TIME_WAIT on source addresses')).toMatchObject({ ok: true, warning: true });
  });

  it('stays quiet about TIME_WAIT below thousands per address, and suggests a contiguous fresh range', () => {
    const quiet = preflight({
      ...base,
      sourceIps: ['127.0.0.9'],
      facts: { ...facts, timeWaitByIp: new Map([['127.0.0.9', TIME_WAIT_WARN_PER_ADDRESS - 1]]) },
    });
    expect(quiet.advice.filter((a) => a.includes('TIME_WAIT'))).toEqual([]);
    expect(quiet.checks.find((c) => c.name === 'TIME_WAIT on source addresses')?.warning).toBeUndefined();
    // Unbound connects from 127.0.0.1 share ports with TIME_WAIT sockets to other destinations.
    const unbound = preflight({ ...base, facts: { ...facts, timeWaitByIp: new Map([['127.0.0.1', 30_000]]) } });
    expect(unbound.advice.filter((a) => a.includes('TIME_WAIT'))).toEqual([]);
    expect(unbound.checks.find((c) => c.name === 'TIME_WAIT on source addresses')?.have).toBe(
      'ok (no source address bound)',
    );
    const loud = preflight({
      ...base,
      peakConcurrent: 12_000,
      sourceIps: ['127.0.0.9'],
      facts: {
        ...facts,
        timeWaitByIp: new Map([
          ['127.0.0.9', 9_000],
          ['127.0.0.3', 400],
        ]),
      },
    });
    expect(loud.advice.at(-1)).toMatch(
      /^warning: 127\.0\.0\.9 holds 9,000 TIME_WAIT sockets .* use --source-ips 127\.0\.0\.2,127\.0\.0\.4,127\.0\.0\.5$/,
    );
    expect(sourceIpsSpec(['127.0.0.2', '127.0.0.3', '127.0.0.4'])).toBe('127.0.0.2-127.0.0.4');
  });

  it('sizes the embedded target by its open-file limit, or names the exact setting', () => {
    expect(sizeEmbeddedTarget(40_000, null, 20_000)).toMatchObject({
      processes: 3,
      perProcessCapacity: 19_000,
      chosen: true,
      problem: null,
    });
    expect(sizeEmbeddedTarget(19_000, null, 20_000).processes).toBe(1);
    expect(sizeEmbeddedTarget(19_001, null, 20_000).processes).toBe(2);
    expect(sizeEmbeddedTarget(40_000, 1, 20_000).problem).toBe(
      'target.embedded.processes: 1 broker process holds at most 19000 connections (19000 each, open-file limit 20000) but the plan holds 40000: set target.embedded.processes: 3 or more, or leave it out and herd chooses',
    );
    expect(sizeEmbeddedTarget(2_000_000, null, 20_000).problem).toMatch(
      /would need 106 broker processes .* runs at most 64/,
    );
  });

  it('warns when the embedded target and herd together cannot keep up with the plan on the cores left to them', () => {
    const at = (peakConnectRatePerS: number, otherLoad: number | null, burnMs = 0) =>
      embeddedRateCheck({ peakConnectRatePerS, cores: 2, burnMs, otherLoad });
    // ~0.55 ms target + ~0.15 ms herd per connect: 2 idle cores manage floor(2e6 / 700) = 2,857/s.
    expect(at(1_000, 0)).toEqual({
      check: {
        name: 'connect rate (embedded target + herd)',
        need: '1000/s',
        have: '~2,857/s on 2 cores (~0.70 ms CPU per connect)',
        ok: true,
      },
      advice: null,
    });
    expect(at(1_000, null).check.have).toBe('~2,857/s on 2 cores (~0.70 ms CPU per connect)');
    const fast = at(4_000, 0);
    expect(fast.check.warning).toBe(true);
    expect(fast.advice).toMatch(
      /^warning: the plan peaks at 4,000 connects\/s, but the embedded target and herd share 2 cores and together manage ~2,857\/s/,
    );
    // One core kept busy by another process (load 1.0): floor(1e6 / 700) = 1,428/s, so a 30 s ramp of
    // 40,000 devices (1,334/s) passes and 1,500/s is warned about.
    expect(at(1_334, 1.0).advice).toBeNull();
    const busy = at(1_500, 1.0);
    expect(busy.check.have).toBe('~1,428/s on 2 cores, ~1.0 busy with other work (~0.70 ms CPU per connect)');
    expect(busy.advice).toMatch(/share 2 cores, ~1\.0 busy with other work and together manage ~1,428\/s/);
    // A load past the cores still leaves half a core: floor(0.5e6 / 700) = 714/s.
    expect(at(100, 5).check.have).toBe('~714/s on 2 cores, ~1.5 busy with other work (~0.70 ms CPU per connect)');
    // A target that burns CPU per CONNECT (handshakeBurnsCpu) lowers the ceiling: 2 ms more → floor(2e6 / 2700) = 740/s.
    expect(at(100, 0, 2).check.have).toBe('~740/s on 2 cores (~2.70 ms CPU per connect)');
  });

  it('refuses a source address that is not on this machine, naming it, without sending anything', () => {
    const local = new Set(['127.0.0.1', '10.1.2.3']);
    expect(() => assertLocalSourceIps(['127.0.0.2', '10.1.2.3'], local)).not.toThrow();
    expect(() => assertLocalSourceIps(['127.0.0.2', '192.0.2.10'], local)).toThrow(
      '--source-ips: 192.0.2.10 is not an address of this machine; expected loopback addresses (127.0.0.2-127.0.0.20) or addresses of its interfaces',
    );
  });

  it('never fails a check without a problem that says what to change (no ✗ beside "Ready to run")', () => {
    const variants: PreflightInput[] = [
      base,
      { ...base, peakConcurrent: 100_000 },
      { ...base, peakConcurrent: 100_000, workers: 2, sourceIps: ['127.0.0.2'] },
      { ...base, peakConcurrent: 500_000, facts: { ...facts, freeMemoryBytes: 2 ** 30 } },
      { ...base, peakConnectRatePerS: 1_000_000 },
      { ...base, facts: { ...facts, timeWaitByIp: new Map([['127.0.0.1', 30_000]]) } },
    ];
    for (const v of variants) {
      const r = preflight(v);
      if (r.checks.some((c) => !c.ok)) expect(r.problems.length, JSON.stringify(r.checks)).toBeGreaterThan(0);
      else expect(r.problems).toEqual([]);
    }
  });

  it('reads /proc/net/tcp addresses', () => {
    expect(hexToIpv4('0100007F')).toBe('127.0.0.1');
    expect(hexToIpv4('0200007F')).toBe('127.0.0.2');
    expect(hexToIpv4('zz')).toBeNull();
  });
});
