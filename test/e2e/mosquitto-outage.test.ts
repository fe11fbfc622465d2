/**
 * An outage herd did not cause: a real Mosquitto killed with SIGKILL mid-run by the test (the
 * scenario knows nothing of it) and restarted on the same port. herd must report one observed
 * outage hitting every connected device, with recovery percentiles matching Mosquitto's own log
 * of new connections (stamped on arrival by the test) within 1 s — unsharded, and as 4 shards
 * joined by `herd merge` into one outage with the same hit count.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/procs.js';
import type { Results } from '../../src/results/types.js';
import { externalProgram } from '../helpers/external.js';
import { expectRecoveryAsLogged, LoggedMosquitto } from '../helpers/mosquitto-log.js';
import { HERD_BIN, ROOT, expectExit } from '../helpers/cli.js';
import { herdInProcess } from '../helpers/in-process.js';

const mosquittoBin = externalProgram('mosquitto');
const DEVICES = 100;

function scenarioFile(url: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'herd-observed-')), 'outage.yaml');
  writeFileSync(
    file,
    [
      'name: observed-broker-outage',
      `target: ${url}`,
      'seed: 3',
      `devices: ${DEVICES}`,
      'device: { keepalive: 60s, connectTimeout: 5s }',
      'reconnect: { policy: exponential, initial: 200ms, max: 2s, jitter: full }',
      'waves:',
      '  - { type: ramp, name: online, over: 1s }',
      // The kill comes once every device is up (~2 s in), the restart once herd has seen them all
      // gone, and the devices retry at most 2 s apart: all back by ~6 s on an idle machine; the run
      // ends at 17 s, room for a busy one to be twice as slow.
      'hold: 16s',
      'thresholds:',
      '  recovery.p99: ["< 20s"]',
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * Runs herd processes (one per argument list) against `broker`; once the broker has logged every
 * device it is killed, and restarted as soon as every herd process's progress shows its devices
 * gone (synchronised on herd's output and the broker's log, never on a sleep). Returns the
 * results.json paths.
 */
async function runThroughCrash(broker: LoggedMosquitto, runs: string[][]): Promise<string[]> {
  let killed = false;
  let restarted: Promise<void> | null = null;
  const gone = new Set<number>();
  const up = new Set<number>();
  const children: ReturnType<typeof spawn>[] = [];
  const procs = runs.map((args, i) => {
    const herd = spawn(process.execPath, [HERD_BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(herd);
    let stdout = '';
    const progress: string[] = [];
    herd.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    createInterface({ input: herd.stderr }).on('line', (line) => {
      progress.push(line);
      const m = / connected (\d+)\/(\d+)/.exec(line);
      if (m !== null && m[1] === m[2]) up.add(i);
      if (killed && / connected 0\//.test(line)) gone.add(i);
      if (killed && restarted === null && gone.size === runs.length) restarted = broker.start();
    });
    return new Promise<string>((resolve, reject) =>
      herd.on('close', (code) => {
        if (code !== 0) reject(new Error(`herd exited ${code}\n${progress.join('\n')}\n${stdout}`));
        else resolve(/^results: (.+)$/m.exec(stdout)?.[1] as string);
      }),
    );
  });
  try {
    await broker.clients(0, DEVICES);
    // The broker logs a client at its CONNECT; herd counts it connected at the CONNACK. A kill in
    // between makes that device a failed connect, not a hit one: wait for every herd's "N/N" too.
    if (!(await waitFor(() => up.size === runs.length, 60_000, 20)))
      throw new Error(`herd never showed every device connected`);
    await broker.kill();
    killed = true;
    const paths = await Promise.all(procs);
    await restarted;
    return paths;
  } finally {
    // A failed run must not leave the others running: end the ones we started, by their handle.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.allSettled(procs);
  }
}

describe.skipIf(mosquittoBin === null)('an outage of a real broker that herd did not cause', () => {
  let broker: LoggedMosquitto | null = null;
  afterEach(async () => {
    await broker?.stop();
    broker = null;
  });

  it('SIGKILL and restart: one observed outage, hit = the connected devices, recovery as the broker logged it', async () => {
    const b = (broker = new LoggedMosquitto(mosquittoBin as string));
    await b.start();
    const file = scenarioFile(b.url);
    const [path] = await runThroughCrash(b, [['run', file, '--out', join(file, '..', 'out')]]);
    const r = JSON.parse(readFileSync(path as string, 'utf8')) as Results;
    expect(r.outages.map((o) => [o.name, o.side, o.dropped, o.recovered])).toEqual([
      ['observed-1', 'observed', DEVICES, DEVICES],
    ]);
    const o = r.outages[0] as Results['outages'][number];
    expect(o.targetAcceptedAgain).toBe(true);
    expectRecoveryAsLogged(o, b, DEVICES);
    expect(r.thresholds.find((t) => t.metric === 'recovery.p99')?.passed).toBe(true);
    // The file re-reads (schema) and every format names it (the report command, in process).
    for (const format of ['summary', 'md', 'html', 'junit']) {
      const rendered = await herdInProcess(['report', path as string, '--format', format]);
      expectExit(rendered, 0);
      expect(rendered.stdout, format).toContain('observed-1: outage herd did not cause');
    }
  }, 90_000);

  it('4 shards each see the crash: herd merge joins them into one outage with every connected device hit', async () => {
    const b = (broker = new LoggedMosquitto(mosquittoBin as string));
    await b.start();
    const file = scenarioFile(b.url);
    const dir = join(file, '..');
    const startAt = new Date(Date.now() + 20_000).toISOString();
    const shard = (i: number) => [
      'run',
      file,
      '--shard',
      `${i}/4`,
      '--start-at',
      startAt,
      '--workers',
      '1',
      '--out',
      join(dir, `shard-${i}`),
      '--allow-saturated',
    ];
    const paths = await runThroughCrash(b, [1, 2, 3, 4].map(shard));
    const parts = paths.map((p) => JSON.parse(readFileSync(p, 'utf8')) as Results);
    expect(parts.map((p) => p.outages.map((o) => [o.side, o.dropped]))).toEqual(
      [1, 2, 3, 4].map(() => [['observed', DEVICES / 4]]),
    );
    const out = join(dir, 'merged.json');
    expectExit(await herdInProcess(['merge', ...paths, '-o', out]), 0);
    const m = JSON.parse(readFileSync(out, 'utf8')) as Results;
    expect(m.outages.map((o) => [o.name, o.side, o.dropped, o.recovered])).toEqual([
      ['observed-1', 'observed', DEVICES, DEVICES],
    ]);
    // Its start: the earliest shard's, on the agreed start time (each shard's origin fell a little off it).
    expect(m.outages[0]?.atUs).toBe(
      Math.min(...parts.map((p) => (p.outages[0]?.atUs as number) + (p.run.clockOffsetMs as number) * 1000)),
    );
    expectRecoveryAsLogged(m.outages[0] as Results['outages'][number], b, DEVICES);
  }, 120_000);
});
