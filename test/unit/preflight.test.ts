import { describe, expect, it } from 'vitest';
import { freshLoopbackSources, preflight, type PreflightInput } from '../../src/engine/preflight.js';
import { hexToIpv4 } from '../../src/engine/system.js';

const facts = {
  cores: 2,
  freeMemoryBytes: 20 * 2 ** 30,
  openFileLimit: { soft: 20_000, hard: 20_000 },
  ephemeralPortRange: [32768, 60999] as [number, number],
  timeWaitByIp: new Map<string, number>(),
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

  it('chooses enough workers for the open-file limit and spreads loopback source addresses', () => {
    const r = preflight({ ...base, peakConcurrent: 100_000 });
    expect(r.workers).toBe(6); // 100,000 / (20,000 − 200 headroom) → 6 processes
    expect(r.sourceIps).toHaveLength(20); // ⌈100,000 / 5,000⌉: binding stays cheap up to ~6,000 per address
    expect(r.sourceIps[0]).toBe('127.0.0.2');
    expect(r.problems).toEqual([]);
  });

  it('never picks more workers than cores unless the file limit forces it, and then says so', () => {
    expect(preflight({ ...base, peakConcurrent: 5_000 }).workers).toBe(2);
    expect(preflight({ ...base, peakConcurrent: 5_000 }).advice).toEqual([]);
    const low = preflight({ ...base, facts: { ...facts, openFileLimit: { soft: 300, hard: 300 } } });
    expect(low.workers).toBe(10); // 1,000 connections at 100 per process (300 − 200 headroom)
    expect(low.advice).toEqual([
      '10 workers on 2 cores: `ulimit -n` 300 allows 100 connections per worker and the plan holds 1000; workers sharing cores lag sooner (raise `ulimit -n` to 700 for 2)',
    ]);
    expect(preflight({ ...base, workers: 4 }).advice).toEqual(['--workers 4 on 2 cores: workers sharing cores lag sooner, and the run will say if that decided a threshold']);
  });

  it('refuses explicit settings that cannot work, saying what to change', () => {
    const r = preflight({ ...base, peakConcurrent: 100_000, workers: 2, sourceIps: ['127.0.0.2'] });
    expect(r.problems).toEqual([
      'each of 2 workers would hold 50000 connections but a process may open 20000 files: use --workers 6 or more, or raise `ulimit -n`',
      '100000 connections per source address exceed the 28232 ephemeral ports: use --source-ips 127.0.0.2-127.0.0.21',
    ]);
  });

  it('avoids source addresses poisoned by TIME_WAIT and warns about explicit ones', () => {
    expect(freshLoopbackSources(3, new Map([['127.0.0.3', 18_700]]))).toEqual(['127.0.0.2', '127.0.0.4', '127.0.0.5']);
    const r = preflight({ ...base, sourceIps: ['127.0.0.9'], facts: { ...facts, timeWaitByIp: new Map([['127.0.0.9', 18_700]]) } });
    expect(r.advice.some((a) => a.startsWith('127.0.0.9 still holds TIME_WAIT sockets'))).toBe(true);
  });

  it('reads /proc/net/tcp addresses', () => {
    expect(hexToIpv4('0100007F')).toBe('127.0.0.1');
    expect(hexToIpv4('0200007F')).toBe('127.0.0.2');
    expect(hexToIpv4('zz')).toBeNull();
  });
});
