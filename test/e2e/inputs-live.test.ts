/**
 * Issue 14, the inputs that need a live target (all on loopback): URL credentials reach the broker
 * and nothing herd writes contains them; the reachability probe never aborts a run against a target
 * that accepts TCP, is skipped by --no-preflight, and a target that refuses everything is named
 * unreachable unless --allow-unreachable storms it anyway; Ctrl-C ends a busy publishing run within
 * its stated grace.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { probeReachable } from '../../src/run/reachability.js';
import { HERD_BIN, ROOT, runHerd, type CliResult } from '../helpers/cli.js';
import { waitFor } from '../helpers/procs.js';

const SECRET = 's3cret-Zq9';
const FILE_SECRET = 'file-pw-Xk4';
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'herd-inputs-live-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, body: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, body);
  return file;
}

/** Every file under `root`, recursively, as text. */
function allOutputs(root: string): { path: string; text: string }[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return { path, text: readFileSync(path, 'utf8') };
    });
}

function resultsIn(out: string): Results {
  const [id] = readdirSync(out).filter((d) => !d.startsWith('.'));
  return JSON.parse(readFileSync(join(out, id as string, 'results.json'), 'utf8')) as Results;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function tracked(handler: (s: net.Socket) => void): {
  server: net.Server;
  accepted: () => number;
  close: () => Promise<void>;
} {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    handler(s);
  });
  return {
    server,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const failMsg = (r: CliResult): string => `exit ${r.code}\nstderr:\n${r.stderr}`;

describe('URL credentials', () => {
  it('are sent as MQTT username/password, and no output of the run contains them', async () => {
    const seen: { user: string | null; pass: string | null }[] = [];
    const aedes = await Aedes.createBroker();
    aedes.authenticate = (_client, username, password, done) => {
      const user = username ?? null;
      const pass = password ? password.toString() : null;
      seen.push({ user, pass });
      const ok = (user === 'alice' && pass === SECRET) || (user === 'bob' && pass?.startsWith(FILE_SECRET) === true);
      if (ok) done(null, true);
      else done(Object.assign(new Error('bad credentials'), { returnCode: 4 }) as never, false);
    };
    const broker = tracked((s) => aedes.handle(s));
    const port = await listen(broker.server);
    try {
      const body =
        'name: creds\ndevices: 4\nwaves: [{type: ramp, over: 300ms}]\nhold: 500ms\nthresholds: {attempts.failed: ["== 0"]}\n';
      // 1) credentials in the URL (with a path, as users write them).
      const outUrl = join(dir, 'out-url');
      const r1 = await runHerd(
        [
          'run',
          scenario('creds-url', body),
          '--target',
          `mqtt://alice:${SECRET}@127.0.0.1:${port}/x`,
          '--out',
          outUrl,
          '--quiet',
        ],
        { timeoutMs: 90_000 },
      );
      expect(r1.code, failMsg(r1)).toBe(0);
      expect(seen.filter((s) => s.user === 'alice' && s.pass === SECRET)).toHaveLength(4);
      expect(resultsIn(outUrl).run.target).toBe(`mqtt://127.0.0.1:${port}/x`);
      // 2) a password template in the scenario file, which also wins over a URL's.
      const outFile = join(dir, 'out-file');
      const fileBody = body.replace(
        'devices: 4',
        `devices: 3\ndevice: {username: bob, password: "${FILE_SECRET}-{id}"}`,
      );
      const r2 = await runHerd(
        [
          'run',
          scenario('creds-file', fileBody),
          '--target',
          `mqtt://alice:${SECRET}@127.0.0.1:${port}`,
          '--out',
          outFile,
          '--quiet',
        ],
        { timeoutMs: 90_000 },
      );
      expect(r2.code, failMsg(r2)).toBe(0);
      expect(r2.stderr).toContain(
        'device.username/password in the scenario take precedence over the credentials in the target URL',
      );
      expect(seen.filter((s) => s.user === 'bob')).toHaveLength(3);
      // Every output: console, results.json, summary.md, junit.xml, report.html, timeline.csv.
      const files = [...allOutputs(outUrl), ...allOutputs(outFile)];
      expect(files.map((f) => f.path.split('/').pop()).sort()).toEqual([
        'junit.xml',
        'junit.xml',
        'report.html',
        'report.html',
        'results.json',
        'results.json',
        'summary.md',
        'summary.md',
        'timeline.csv',
        'timeline.csv',
      ]);
      for (const { path, text } of [
        ...files,
        { path: 'console', text: r1.stdout + r1.stderr + r2.stdout + r2.stderr },
      ]) {
        expect(text.includes(SECRET), `${path} contains the URL password`).toBe(false);
        expect(text.includes(FILE_SECRET), `${path} contains the scenario password`).toBe(false);
      }
      expect(resultsIn(outFile).scenario.device.password).toBe('(redacted)');
    } finally {
      await broker.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    }
  }, 120_000);
});

describe('reachability', () => {
  const body = 'name: probe\ndevices: 3\ndevice: {connectTimeout: 500ms}\nwaves: [{type: spike}]\nhold: 1s\n';

  it('a target that accepts and then resets is reachable, every time', async () => {
    const t = tracked((s) => s.resetAndDestroy());
    const port = await listen(t.server);
    try {
      for (let i = 0; i < 20; i++) expect(await probeReachable('127.0.0.1', port)).toEqual({ reachable: true });
      const refused = await probeReachable('127.0.0.1', await closedPort());
      expect(refused).toEqual({ reachable: false, why: 'connection refused (nothing listens on that port)' });
    } finally {
      await t.close();
    }
  });

  it('a storm against a resetting target always ends in a report', async () => {
    const t = tracked((s) => s.resetAndDestroy());
    const port = await listen(t.server);
    try {
      const out = join(dir, 'out-reset');
      const r = await runHerd(
        ['run', scenario('reset', body), '--target', `mqtt://127.0.0.1:${port}`, '--out', out, '--quiet'],
        { timeoutMs: 90_000 },
      );
      // No thresholds, so every reset attempt is counted data and the run itself passes: exit 0.
      expect(r.code, failMsg(r)).toBe(0);
      const res = resultsIn(out);
      expect(res.accounting.balanced).toBe(true);
      expect(res.attempts.succeeded).toBe(0);
      expect(res.attempts.failed + res.attempts.timedOut).toBe(res.attempts.started);
    } finally {
      await t.close();
    }
  }, 120_000);

  it('--no-preflight skips the probe: the target sees the devices only', async () => {
    // A silent target: it accepts and never answers, so each device is exactly one connection.
    const counts: number[] = [];
    for (const flags of [['--no-preflight'], []]) {
      const t = tracked(() => {});
      const port = await listen(t.server);
      try {
        const out = join(dir, `out-silent-${flags.length}`);
        const r = await runHerd(
          ['run', scenario('silent', body), '--target', `mqtt://127.0.0.1:${port}`, '--out', out, '--quiet', ...flags],
          { timeoutMs: 90_000 },
        );
        expect(existsSync(out) && resultsIn(out).attempts.timedOut, failMsg(r)).toBe(3);
        counts.push(t.accepted());
      } finally {
        await t.close();
      }
    }
    expect(counts).toEqual([3, 4]);
  }, 120_000);

  it('a --metrics-port or --webhook-sink port already taken: exit 2 naming the flag, before --out exists', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      for (const flag of ['--metrics-port', '--webhook-sink']) {
        const out = join(dir, `out-busy${flag}`);
        const r = await runHerd(['run', scenario('busy-port', body), '--out', out, '--quiet', flag, String(port)], {
          timeoutMs: 60_000,
        });
        expect(r.code, failMsg(r)).toBe(2);
        expect(r.stderr).toContain(`error E_FLAG: ${flag}: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
        expect(existsSync(out), failMsg(r)).toBe(false);
      }
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  }, 120_000);

  it('a target that refuses everything: exit 3 naming it unreachable, or a report with --allow-unreachable', async () => {
    const port = await closedPort();
    const out = join(dir, 'out-refused');
    const refused = await runHerd(
      ['run', scenario('refused', body), '--target', `mqtt://127.0.0.1:${port}`, '--out', out, '--quiet'],
      { timeoutMs: 60_000 },
    );
    expect(refused.code, failMsg(refused)).toBe(3);
    expect(refused.stderr).toContain(
      `error E_TARGET_UNREACHABLE: target mqtt://127.0.0.1:${port} is unreachable: connection refused`,
    );
    expect(refused.stderr).toContain('--allow-unreachable');
    // The probe runs before --out is created: not even an empty folder is left.
    expect(existsSync(out)).toBe(false);
    const anyway = await runHerd(
      [
        'run',
        scenario('refused', body),
        '--target',
        `mqtt://127.0.0.1:${port}`,
        '--out',
        out,
        '--quiet',
        '--allow-unreachable',
      ],
      { timeoutMs: 90_000 },
    );
    expect(anyway.stderr).toContain(
      'is unreachable (connection refused (nothing listens on that port)); running anyway',
    );
    const res = resultsIn(out);
    expect(res.attempts.failed, failMsg(anyway)).toBe(3);
    expect(res.accounting.balanced).toBe(true);
  }, 120_000);
});

describe('Ctrl-C', () => {
  it('ends a run publishing every 1ms on the first SIGINT, within the stated 10 s, with a report', async () => {
    const out = join(dir, 'out-sigint');
    const file = scenario(
      'busy',
      'name: busy\ndevices: 50\nwaves: [{type: ramp, over: 1s}]\nhold: 60s\ndevice: {publish: {every: 1ms}}\n',
    );
    const child = spawn(process.execPath, [HERD_BIN, 'run', file, '--out', out], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    try {
      expect(await waitFor(() => /t=\s+[2-9]s/.test(stderr), 40_000), stderr).toBe(true);
      const sentAt = Date.now();
      child.kill('SIGINT');
      const code = await closed;
      const tookMs = Date.now() - sentAt;
      expect(code, stderr).toBe(130);
      expect(tookMs, `stopped after ${tookMs} ms`).toBeLessThan(10_000);
      expect(resultsIn(out).run.status).toBe('aborted');
    } finally {
      clearTimeout(killer);
    }
  }, 120_000);
});
