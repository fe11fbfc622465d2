/**
 * Shards on several hosts, on one machine: three network namespaces are the hosts (each its own
 * network stack and address, joined by a bridge), a Mosquitto broker runs on one, a shard of the
 * same plan on each of the other two, started together by --start-at; `herd merge` of the two
 * equals one unsharded run of the plan, each shard was on time (clockOffsetMs ≤ 50), and the broker
 * saw every connection of a shard come from that shard's host, spread evenly over its addresses.
 *
 * Needs root and iproute2 (`ip netns`) and Mosquitto: skipped with the reason otherwise, a failure
 * under HERD_REQUIRE_EXTERNAL=1 (CI). The namespaces are named after this process and removed in
 * afterAll, also when a test failed; nothing is routed out of them.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHistogram, decodeHistogram } from '../../src/metrics/histogram.js';
import type { Results } from '../../src/results/types.js';
import { expectExit, HERD_BIN } from '../helpers/cli.js';
import { externalProgram } from '../helpers/external.js';
import { herdInProcess } from '../helpers/in-process.js';
import { createHosts, netnsUnavailable, runIn, spawnIn, type TestHosts } from '../helpers/netns.js';

const SCENARIO = `name: netns-hosts
devices: 800
seed: 11
device: { keepalive: 30s }
waves:
  - { type: ramp, over: 2s }
hold: 2s
`;
// No thresholds: the merge's exactness is tested, not the latency of a target on busy cores.
const PORT = 1883;

function skipReason(): string | null {
  const why = netnsUnavailable();
  if (why === null) return null;
  const msg = `network namespace hosts: ${why}; the several-hosts test is skipped`;
  if (process.env.HERD_REQUIRE_EXTERNAL === '1') throw new Error(`HERD_REQUIRE_EXTERNAL=1 but ${msg}`);
  console.warn(`SKIP: ${msg}`);
  return msg;
}

const mosquitto = externalProgram('mosquitto');
const unavailable = mosquitto === null ? 'mosquitto is not installed' : skipReason();

function readOne(dir: string): { file: string; results: Results } {
  const [run] = readdirSync(dir).filter((d) => !d.startsWith('.'));
  const file = join(dir, run as string, 'results.json');
  return { file, results: JSON.parse(readFileSync(file, 'utf8')) as Results };
}

/** Connections the broker logged per client address ("New client connected from A:port"). */
function connectsByAddress(log: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of log.matchAll(/New client connected from ([\d.]+):\d+ /g)) {
    out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + 1);
  }
  return out;
}

describe.skipIf(unavailable !== null)('shards on two namespace hosts against a broker on a third', () => {
  let hosts: TestHosts | undefined;
  let broker: ChildProcess | undefined;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herd-netns-'));
    hosts = createHosts(`herd-${process.pid}`, ['target', 'a', 'b'], { a: 1 });
    const addr = hosts.addresses.target?.[0] as string;
    url = `mqtt://${addr}:${PORT}`;
    const conf = join(dir, 'mosquitto.conf');
    const log = join(dir, 'mosquitto.log');
    // Mosquitto started as root drops to its own user, which must reach and write the log.
    chmodSync(dir, 0o711);
    writeFileSync(log, '', { mode: 0o666 });
    chmodSync(log, 0o666);
    writeFileSync(
      conf,
      [`listener ${PORT} ${addr}`, 'allow_anonymous true', 'max_connections -1', `log_dest file ${log}`, ''].join('\n'),
    );
    broker = spawnIn(hosts.ns.target as string, mosquitto as string, ['-c', conf]);
    broker.stdout?.resume();
    broker.stderr?.resume();
    // Bounded: at most 50 tries from host a, each a real TCP connect to the broker's address.
    const probe = `const s=require('net').connect(${PORT},'${addr}');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1))`;
    for (let i = 0; i < 50; i++) {
      const r = await runIn(hosts.ns.a as string, process.execPath, ['-e', probe], 5_000);
      if (r.code === 0) return;
    }
    throw new Error(`mosquitto did not listen on ${url} inside ${hosts.ns.target}`);
  });

  afterAll(async () => {
    if (broker !== undefined && broker.exitCode === null && broker.signalCode === null) {
      const exited = new Promise<void>((r) => broker?.once('exit', () => r()));
      broker.kill('SIGTERM');
      await exited;
    }
    hosts?.remove();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('merges exactly, each shard on time, each host its own source address', async () => {
    const ns = hosts?.ns as Record<string, string>;
    const [a, a2] = hosts?.addresses.a as [string, string];
    const b = hosts?.addresses.b?.[0] as string;
    const file = join(dir, 's.yaml');
    writeFileSync(file, SCENARIO);
    const herd = (host: string, args: string[]) =>
      runIn(host, process.execPath, [HERD_BIN, 'run', file, '--target', url, '-q', '--allow-saturated', ...args]);

    const whole = await herd(ns.a as string, ['--out', join(dir, 'whole'), '--source-ips', a]);
    expectExit(whole, 0);
    const logAfterWhole = readFileSync(join(dir, 'mosquitto.log'), 'utf8');

    // Far enough ahead that both hosts' processes are waiting when it comes on a busy machine
    // (15 s was not: at a load of 13 on 2 cores one shard was ready 1.3 s after it).
    const startAt = new Date(Date.now() + 30_000).toISOString();
    const shardArgs = (i: number) => ['--shard', `${i}/2`, '--start-at', startAt, '--workers', '1'];
    const [s1, s2] = await Promise.all([
      herd(ns.a as string, [...shardArgs(1), '--out', join(dir, 'shard-1'), '--source-ips', `${a},${a2}`]),
      herd(ns.b as string, [...shardArgs(2), '--out', join(dir, 'shard-2')]),
    ]);
    expectExit(s1 as Awaited<typeof whole>, 0);
    expectExit(s2 as Awaited<typeof whole>, 0);
    const parts = [readOne(join(dir, 'shard-1')), readOne(join(dir, 'shard-2'))];
    const w = readOne(join(dir, 'whole')).results;
    expect(parts.map((p) => [p.results.run.shard, p.results.attempts.planned])).toEqual([
      [{ index: 1, count: 2 }, 400],
      [{ index: 2, count: 2 }, 400],
    ]);
    for (const p of parts) expect(p.results.run.clockOffsetMs).toBeLessThanOrEqual(50);

    const out = join(dir, 'merged.json');
    const merged = await herdInProcess(['merge', ...parts.map((p) => p.file), '-o', out]);
    expectExit(merged, 0);
    const m = JSON.parse(readFileSync(out, 'utf8')) as Results;
    expect(m.attempts).toEqual(w.attempts);
    expect(m.attempts.planned).toBe(800);
    expect(m.accounting.balanced).toBe(true);
    expect(m.run.clockOffsetMs).toBeLessThanOrEqual(50);
    const union = createHistogram();
    for (const p of parts) union.add(decodeHistogram(p.results.latency['connect.total']!.histogram));
    expect(m.latency['connect.total']?.count).toBe(union.totalCount);
    expect(m.latency['connect.total']?.count).toBe(w.latency['connect.total']?.count);
    expect(m.latency['connect.total']?.p99Us).toBe(union.getValueAtPercentile(99));
    expect(m.latency['connect.total']?.maxUs).toBe(union.maxValue);

    // The broker on the third host saw host b's connections come from b's address and host a's
    // from a's: the shards really ran on two hosts.
    const seen = connectsByAddress(readFileSync(join(dir, 'mosquitto.log'), 'utf8'));
    const before = connectsByAddress(logAfterWhole);
    expect(before.get(a)).toBe(w.attempts.started);
    // Shard 1/2's 400 devices alternate over host a's two addresses (by rank in the shard).
    expect([(seen.get(a) ?? 0) - (before.get(a) ?? 0), seen.get(a2)]).toEqual([200, 200]);
    expect(parts[0]?.results.attempts.started).toBe(400);
    expect(seen.get(b)).toBe(parts[1]?.results.attempts.started);
    for (const from of seen.keys()) expect([a, a2, b]).toContain(from);
  }, 180_000);
});
