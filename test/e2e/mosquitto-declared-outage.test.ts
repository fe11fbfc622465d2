/**
 * An outage the scenario causes through the user's own tools: its declared outage's break command
 * SIGKILLs a real Mosquitto mid-run and its restore command starts it again on the same port (in
 * its own session, as `systemctl start` would). herd must report the declared outage hitting every
 * device the broker had connected, recovery percentiles within 1 s of Mosquitto's own log of new
 * connections (stamped on arrival by the test, from the moment the restore command began), and
 * what each command did.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { externalProgram } from '../helpers/external.js';
import { expectRecoveryAsLogged, LoggedMosquitto } from '../helpers/mosquitto-log.js';
import { expectExit, runHerd } from '../helpers/cli.js';
import { herdInProcess } from '../helpers/in-process.js';

const mosquittoBin = externalProgram('mosquitto');
const DEVICES = 100;

function scenarioFile(b: LoggedMosquitto): string {
  const file = join(mkdtempSync(join(tmpdir(), 'herd-declared-')), 'restart.yaml');
  writeFileSync(
    file,
    [
      'name: declared-broker-restart',
      `target: ${b.url}`,
      'seed: 3',
      `devices: ${DEVICES}`,
      'device: { keepalive: 60s, connectTimeout: 5s }',
      'reconnect: { policy: exponential, initial: 200ms, max: 2s, jitter: full }',
      'waves:',
      '  - { type: ramp, name: online, over: 1s }',
      'declaredOutages:',
      '  - name: broker-kill',
      '    at: 5s',
      '    duration: 3s',
      `    break: ${JSON.stringify(`kill -KILL ${b.pid}`)}`,
      `    restore: ${JSON.stringify(b.restoreCommand())}`,
      '    timeout: 10s',
      // Restored at 8 s, the devices retry at most 2 s apart: all back by ~11 s, 5 s before the end.
      'duration: 16s',
      'thresholds:',
      '  recovery.p99: ["< 20s"]',
      '',
    ].join('\n'),
  );
  return file;
}

describe.skipIf(mosquittoBin === null)('an outage the scenario causes with its own commands', () => {
  let broker: LoggedMosquitto | null = null;
  afterEach(async () => {
    await broker?.stop();
    broker = null;
  });

  it('break = SIGKILL, restore = start again: one declared outage, hit = the connected devices, recovery as the broker logged it', async () => {
    const b = (broker = new LoggedMosquitto(mosquittoBin as string));
    await b.start();
    const file = scenarioFile(b);
    const run = await runHerd(['run', file, '--out', join(file, '..', 'out'), '--allow-commands']);
    expectExit(run, 0);
    const path = /^results: (.+)$/m.exec(run.stdout)?.[1] as string;
    const r = JSON.parse(readFileSync(path, 'utf8')) as Results;
    // The devices the broker had connected when the break command killed it: its first life's clients.
    const connected = b.distinct(0).length;
    expect(connected).toBe(DEVICES);
    expect(r.outages.map((o) => [o.name, o.side, o.dropped, o.recovered])).toEqual([
      ['broker-kill', 'declared', connected, DEVICES],
    ]);
    const o = r.outages[0] as Results['outages'][number];
    expect(o.commandsOk).toBe(true);
    expect(o.commands?.map((c) => [c.role, c.outcome, c.exitCode, c.plannedUs])).toEqual([
      ['break', 'ok', 0, 5_000_000],
      ['restore', 'ok', 0, 8_000_000],
    ]);
    // herd measures from the restore time; the broker's account from when the restore command began.
    expectRecoveryAsLogged(o, b, DEVICES, 1, b.restoreBeganMs());
    expect(r.thresholds.find((t) => t.metric === 'recovery.p99')?.passed).toBe(true);
    // The command lines are not in results.json (they can hold a password); each format names the outage.
    expect(readFileSync(path, 'utf8')).not.toContain(`kill -KILL ${b.pid}`);
    // herd compare reads it as any outage: by its name.
    // (compare and report in process: the run above is the one that must be the real CLI.)
    const compared = await herdInProcess(['compare', path, path, '--format', 'json']);
    expectExit(compared, 0);
    expect(compared.stdout).toContain('"recovery.broker-kill.p99"');
    for (const format of ['summary', 'md', 'html', 'junit']) {
      const rendered = await herdInProcess(['report', path, '--format', format]);
      expectExit(rendered, 0);
      expect(rendered.stdout, format).toContain('broker-kill: declared (scenario commands) at 5s for 3s');
    }
  }, 90_000);

  it('4 shards: shard 1 alone runs the commands (only it has --allow-commands), merge gives one declared outage with every connected device hit', async () => {
    const b = (broker = new LoggedMosquitto(mosquittoBin as string));
    await b.start();
    const file = scenarioFile(b);
    const dir = join(file, '..');
    // Far enough ahead that every shard is ready on time on a busy machine: the shards measure the
    // window on their own origins, which must fall together for the kill to land inside each window.
    const startAt = new Date(Date.now() + 30_000).toISOString();
    const runs = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        runHerd([
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
          ...(i === 1 ? ['--allow-commands'] : []),
        ]),
      ),
    );
    const paths = runs.map((r) => {
      expectExit(r, 0);
      return /^results: (.+)$/m.exec(r.stdout)?.[1] as string;
    });
    const parts = paths.map((p) => JSON.parse(readFileSync(p, 'utf8')) as Results);
    expect(parts.map((p) => p.outages.map((o) => [o.side, o.dropped, o.commands?.map((c) => c.outcome)]))).toEqual([
      [['declared', DEVICES / 4, ['ok', 'ok']]],
      ...[2, 3, 4].map(() => [['declared', DEVICES / 4, ['other-shard', 'other-shard']]]),
    ]);
    const out = join(dir, 'merged.json');
    expectExit(await herdInProcess(['merge', ...paths, '-o', out]), 0);
    const m = JSON.parse(readFileSync(out, 'utf8')) as Results;
    // Every device the broker had connected when it was killed: the unsharded run's hit count.
    expect(b.distinct(0).length).toBe(DEVICES);
    expect(m.outages.map((o) => [o.name, o.side, o.dropped, o.recovered, o.commandsOk])).toEqual([
      ['broker-kill', 'declared', DEVICES, DEVICES, true],
    ]);
    expect(m.outages[0]?.commands?.map((c) => [c.role, c.outcome])).toEqual([
      ['break', 'ok'],
      ['restore', 'ok'],
    ]);
    expectRecoveryAsLogged(m.outages[0] as Results['outages'][number], b, DEVICES, 1, b.restoreBeganMs());
  }, 150_000);
});
