/**
 * Bad input to the CLI (issue 9), each command once as the built process: every command given bad flags, bad scenarios, broken or
 * foreign results files and unusable output folders exits 2 (3 for an unreachable target) with a
 * message naming the flag or file, without a stack trace, and leaves no report directory behind.
 * Only loopback addresses are used; the "unreachable" target is a loopback port nobody listens on.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runHerd as spawnHerd, type CliResult } from '../helpers/cli.js';
import { herdInProcess } from '../helpers/in-process.js';

const VALID = `name: bad-input
devices: 5
waves:
  - type: ramp
    over: 200ms
`;

let dir = '';
let scenario = '';
let fixture = '';
let aFile = '';
let unwritableDir = '';
let outCounter = 0;

/** A fresh --out path that must not exist after a rejected run. */
function freshOut(): string {
  return join(dir, `out-${++outCounter}`);
}

function noReportLeft(out: string): void {
  // The folder may have been created by the up-front writability check, but must hold no run.
  if (existsSync(out)) expect(readdirSync(out), `reports left in ${out}`).toEqual([]);
}

/**
 * The first call of each command spawns the built CLI (bin/herd.js and dist), so every command's
 * real process path is checked; later calls run the same command in this process (about a second
 * of CPU less each, the same code from its argv on). A call with its own environment always spawns.
 */
const spawned = new Set<string>();
function runHerd(args: string[], opts: Parameters<typeof spawnHerd>[1] = {}): Promise<CliResult> {
  const command = args[0] ?? '';
  if (opts.env !== undefined || !spawned.has(command)) {
    spawned.add(command);
    return spawnHerd(args, opts);
  }
  return herdInProcess(args);
}

function expectBadInput(r: CliResult, mention: string, code = 2): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, `exit code; stderr:\n${r.stderr}`).toBe(code);
  expect(r.stderr, 'message must name the flag or file').toContain(mention);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
}

async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'herd-bad-input-'));
  scenario = join(dir, 'valid.yaml');
  writeFileSync(scenario, VALID);
  fixture = join(ROOT, 'fixtures', 'results-quickstart.json');
  aFile = join(dir, 'a-file');
  writeFileSync(aFile, 'not a folder\n');
  // As root, chmod does not stop writes: a path under a regular file is unwritable for everyone.
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) unwritableDir = join(aFile, 'sub');
  else {
    unwritableDir = join(dir, 'read-only');
    mkdirSync(unwritableDir);
    chmodSync(unwritableDir, 0o500);
  }
});

afterAll(() => {
  if (existsSync(join(dir, 'read-only'))) chmodSync(join(dir, 'read-only'), 0o700);
  rmSync(dir, { recursive: true, force: true });
});

describe('herd run: bad flags are named and exit 2 before anything runs', () => {
  const cases: [string, string[], string][] = [
    ['invalid URL', ['--target', 'not a url'], '--target'],
    ['unsupported scheme', ['--target', 'http://127.0.0.1:1883'], '--target'],
    ['port out of range in URL', ['--target', 'mqtt://127.0.0.1:70000'], '--target'],
    ['URL without host', ['--target', 'mqtt://:1883'], '--target'],
    ['--shard 5/4', ['--shard', '5/4'], '--shard'],
    ['--shard 0/4', ['--shard', '0/4'], '--shard'],
    ['--shard 1/0', ['--shard', '1/0'], '--shard'],
    ['--shard abc', ['--shard', 'abc'], '--shard'],
    ['--scale 0', ['--scale', '0'], '--scale'],
    ['--scale -1', ['--scale', '-1'], '--scale'],
    ['--scale 1e9', ['--scale', '1e9'], '--scale'],
    ['--workers 0', ['--workers', '0'], '--workers'],
    ['--workers 1000', ['--workers', '1000'], '--workers'],
    ['--devices 1.5', ['--devices', '1.5'], '--devices'],
    ['--devices 0', ['--devices', '0'], '--devices'],
    ['--devices -3', ['--devices', '-3'], '--devices'],
    ['--seed -1', ['--seed', '-1'], '--seed'],
    ['--max-handshakes 0', ['--max-handshakes', '0'], '--max-handshakes'],
    ['--source-ips reversed range', ['--source-ips', '127.0.0.9-127.0.0.2'], '--source-ips'],
    ['--source-ips not an address', ['--source-ips', 'localhost'], '--source-ips'],
    ['--source-ips CIDR too wide', ['--source-ips', '127.0.0.0/8'], '--source-ips'],
    ['--start-at without zone', ['--start-at', '2026-01-01T00:00:00'], '--start-at'],
    ['--start-at far future', ['--start-at', '2999-01-01T00:00:00Z'], '--start-at'],
    ['--target-profile unknown', ['--target-profile', 'nope'], '--target-profile'],
    ['unknown flag', ['--bogus-flag'], '--bogus-flag'],
    ['missing flag value', ['--workers'], '--workers'],
  ];
  for (const [label, flags, mention] of cases) {
    it(label, async () => {
      const out = freshOut();
      const r = await runHerd(['run', scenario, '-q', '--out', out, ...flags], { timeoutMs: 30_000 });
      expectBadInput(r, mention);
      noReportLeft(out);
    });
  }
});

describe('herd run: bad scenarios and output folders', () => {
  const scenarios: [string, string, string][] = [
    ['zero rate', 'name: x\ndevices: 5\nwaves: [{type: rate, rate: 0, over: 1s}]\n', 'waves[0].rate'],
    ['negative rate', 'name: x\ndevices: 5\nwaves: [{type: rate, rate: -10, over: 1s}]\n', 'waves[0].rate'],
    ['zero devices', 'name: x\ndevices: 0\nwaves: [{type: ramp, over: 1s}]\n', 'devices'],
    ['negative devices', 'name: x\ndevices: -5\nwaves: [{type: ramp, over: 1s}]\n', 'devices'],
    [
      'embedded port out of range',
      'name: x\ndevices: 5\ntarget: {embedded: {port: 70000}}\nwaves: [{type: ramp, over: 1s}]\n',
      'target.embedded.port',
    ],
    [
      'target URL with a bad port',
      'name: x\ndevices: 5\ntarget: "mqtt://127.0.0.1:99999"\nwaves: [{type: ramp, over: 1s}]\n',
      'target',
    ],
    ['truncated scenario', VALID.slice(0, VALID.indexOf('over')) + 'ov', 'line 5'],
    ['not YAML', 'name: [unclosed\n', 'not valid YAML'],
    [
      'alias bomb',
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
      'alias',
    ],
    ['unknown field', VALID + 'colour: blue\n', 'colour: unknown field'],
  ];
  for (const [label, text, mention] of scenarios) {
    it(`scenario with ${label}`, async () => {
      const file = join(dir, `scenario-${label.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, text);
      const out = freshOut();
      const r = await runHerd(['run', file, '-q', '--out', out], { timeoutMs: 30_000 });
      expectBadInput(r, file);
      expect(r.stderr).toContain(mention);
      noReportLeft(out);
    });
  }

  it('a scenario file that does not exist', async () => {
    const out = freshOut();
    const missing = join(dir, 'missing.yaml');
    const r = await runHerd(['run', missing, '-q', '--out', out]);
    expectBadInput(r, missing);
    noReportLeft(out);
  });

  it('--out naming a file', async () => {
    const r = await runHerd(['run', scenario, '-q', '--out', aFile]);
    expectBadInput(r, '--out');
    expect(readFileSync(aFile, 'utf8')).toBe('not a folder\n');
  });

  it('--out in an unwritable place', async () => {
    const r = await runHerd(['run', scenario, '-q', '--out', unwritableDir]);
    expectBadInput(r, '--out');
    noReportLeft(unwritableDir);
  });

  it('an unreachable target (a free loopback port) exits 3 naming it, with no report', async () => {
    const port = await freeLoopbackPort();
    const out = freshOut();
    const r = await runHerd(['run', scenario, '-q', '--out', out, '--target', `mqtt://127.0.0.1:${port}`], {
      timeoutMs: 60_000,
    });
    expectBadInput(r, `127.0.0.1:${port}`, 3);
    noReportLeft(out);
  });
});

describe('herd validate', () => {
  it('a valid scenario passes (control)', async () => {
    const r = await runHerd(['validate', scenario]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('an unknown flag', async () => {
    expectBadInput(await runHerd(['validate', scenario, '--workers', '5']), '--workers');
  });

  it('a churn wave over an absurd span is bad input, not an out-of-memory crash', async () => {
    const file = join(dir, 'churn.yaml');
    writeFileSync(
      file,
      'name: x\ndevices: 10\nwaves: [{type: ramp, over: 1s}, {type: churn, over: 99999999h, perMinute: 1}]\n',
    );
    // A small heap keeps the failure quick and cheap if the plan is still built in full.
    const r = await runHerd(['validate', file], {
      env: { NODE_OPTIONS: '--max-old-space-size=256' },
      timeoutMs: 60_000,
    });
    expectBadInput(r, file);
    expect(r.stderr).toContain('waves[1]');
  });

  it('a duration beyond what integer microseconds can hold is bad input', async () => {
    const file = join(dir, 'long.yaml');
    writeFileSync(file, VALID + 'duration: 1000000000000000h\n');
    const r = await runHerd(['validate', file]);
    expectBadInput(r, file);
    expect(r.stderr).toContain('duration');
  });
});

describe('herd compare / merge / report: broken, foreign and other-version results files', () => {
  let truncated = '';
  let v2 = '';
  let v09 = '';
  let foreign = '';
  let emptyFile = '';
  let badHistogram = '';
  beforeAll(() => {
    const text = readFileSync(fixture, 'utf8');
    truncated = join(dir, 'truncated.json');
    writeFileSync(truncated, text.slice(0, Math.floor(text.length / 2)));
    const data = JSON.parse(text) as { schemaVersion: string; latency: Record<string, { histogram: string }> };
    v2 = join(dir, 'v2.json');
    writeFileSync(v2, JSON.stringify({ ...data, schemaVersion: '2.0.0' }));
    v09 = join(dir, 'v09.json');
    writeFileSync(v09, JSON.stringify({ ...data, schemaVersion: '0.9.0' }));
    foreign = join(ROOT, 'package.json');
    emptyFile = join(dir, 'empty.json');
    writeFileSync(emptyFile, '');
    const broken = structuredClone(data);
    for (const s of Object.values(broken.latency)) s.histogram = 'AAAA';
    badHistogram = join(dir, 'bad-histogram.json');
    writeFileSync(badHistogram, JSON.stringify(broken));
  });

  const kinds = (): [string, string, string][] => [
    ['truncated', truncated, 'not valid JSON'],
    ['schemaVersion 2.0.0', v2, '2.0.0'],
    ['schemaVersion 0.9.0', v09, '0.9.0'],
    ['foreign (package.json)', foreign, 'not a herd results file'],
    ['empty', emptyFile, 'not valid JSON'],
    ['missing', join(dir, 'nope.json'), 'no such file'],
    ['a directory', dir, 'is a directory'],
  ];

  it('compare: each bad file as base and as candidate', async () => {
    for (const [label, file, why] of kinds()) {
      for (const args of [
        [file, fixture],
        [fixture, file],
      ]) {
        const r = await runHerd(['compare', ...args]);
        expectBadInput(r, file);
        expect(r.stderr, label).toContain(why);
      }
    }
  });

  it('merge: each bad file, with no output written', async () => {
    for (const [label, file, why] of kinds()) {
      const out = join(dir, `merged-${label.replace(/\W+/g, '-')}`, 'results.json');
      const r = await runHerd(['merge', file, '-o', out]);
      expectBadInput(r, file);
      expect(r.stderr, label).toContain(why);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('report: each bad file, in every format', async () => {
    for (const [label, file, why] of kinds()) {
      for (const format of ['summary', 'json', 'html']) {
        const r = await runHerd(['report', file, '--format', format]);
        expectBadInput(r, file);
        expect(r.stderr, label).toContain(why);
        expect(r.stdout).toBe('');
      }
    }
  });

  it('report/merge/compare: a results file whose histograms are not HdrHistograms', async () => {
    const r1 = await runHerd(['report', badHistogram, '--format', 'html']);
    expectBadInput(r1, badHistogram);
    const out = join(dir, 'merged-bad-histogram', 'results.json');
    const r2 = await runHerd(['merge', badHistogram, '-o', out]);
    expectBadInput(r2, badHistogram);
    expect(existsSync(out)).toBe(false);
  });

  it('compare: bad flags are named', async () => {
    expectBadInput(await runHerd(['compare', fixture, fixture, '--max-regression', 'lots']), '--max-regression');
    expectBadInput(await runHerd(['compare', fixture, fixture, '--tolerance', 'nonsense']), '--tolerance');
    expectBadInput(await runHerd(['compare', fixture, fixture, '--format', 'pdf']), '--format');
    expectBadInput(await runHerd(['compare', fixture]), 'candidate');
  });

  it('report: bad format and unwritable -o', async () => {
    expectBadInput(await runHerd(['report', fixture, '--format', 'pdf']), '--format');
    expectBadInput(await runHerd(['report', fixture, '-o', join(unwritableDir, 'r.md'), '--format', 'md']), '-o');
    expectBadInput(await runHerd(['report', fixture, '-o', aFile.concat('/x.md')]), '-o');
  });

  it('merge: -o in an unwritable place', async () => {
    const out = join(aFile, 'merged', 'results.json');
    const r = await runHerd(['merge', fixture, '-o', out]);
    expectBadInput(r, '-o');
  });

  it('merge: no -o', async () => {
    expectBadInput(await runHerd(['merge', fixture]), '--output');
  });
});

describe('herd export k6', () => {
  const cases: [string, string[], string][] = [
    ['--scale 0', ['--scale', '0'], '--scale'],
    ['--devices 1.5', ['--devices', '1.5'], '--devices'],
    ['--target with an unsupported scheme', ['--target', 'ftp://127.0.0.1'], '--target'],
    ['--target that is not a URL', ['--target', 'not a url'], '--target'],
    ['unknown flag', ['--bogus'], '--bogus'],
  ];
  for (const [label, flags, mention] of cases) {
    it(label, async () => {
      const r = await runHerd(['export', 'k6', scenario, ...flags]);
      expectBadInput(r, mention);
      expect(r.stdout).toBe('');
    });
  }

  it('-o in an unwritable place', async () => {
    expectBadInput(await runHerd(['export', 'k6', scenario, '-o', join(unwritableDir, 'storm.ts')]), '-o');
  });

  it('a bad scenario', async () => {
    const file = join(dir, 'export-bad.yaml');
    writeFileSync(file, 'name: x\ndevices: 5\nwaves: [{type: rate, rate: 0, over: 1s}]\n');
    const r = await runHerd(['export', 'k6', file]);
    expectBadInput(r, file);
    expect(r.stdout).toBe('');
  });
});

describe('herd doctor', () => {
  const cases: [string, string[], string][] = [
    ['--workers 0', ['--workers', '0'], '--workers'],
    ['--devices 1.5', ['--devices', '1.5'], '--devices'],
    ['--source-ips reversed range', ['--source-ips', '127.0.0.9-127.0.0.2'], '--source-ips'],
    ['unknown flag', ['--bogus'], '--bogus'],
  ];
  for (const [label, flags, mention] of cases) {
    it(label, async () => {
      expectBadInput(await runHerd(['doctor', scenario, ...flags]), mention);
    });
  }

  it('a missing scenario', async () => {
    const missing = join(dir, 'missing.yaml');
    expectBadInput(await runHerd(['doctor', missing]), missing);
  });
});

describe('herd target: bad flags exit 2 before any process starts', () => {
  const cases: [string, string[], string][] = [
    ['--port 70000', ['--port', '70000'], '--port'],
    ['--port -1', ['--port', '-1'], '--port'],
    ['--port abc', ['--port', 'abc'], '--port'],
    ['--processes 0', ['--processes', '0'], '--processes'],
    ['--profile unknown', ['--profile', 'nope'], '--profile'],
    // Refused before anything listens (203.0.113.0/24 is the documentation range).
    ['--host not loopback', ['--host', '203.0.113.1'], '--host'],
    ['--max-connections -5', ['--max-connections', '-5'], '--max-connections'],
    ['--admission garbage', ['--admission', 'a,b,c'], '--admission'],
    ['--message-loss-rate 2', ['--message-loss-rate', '2'], '--message-loss-rate'],
    ['unknown flag', ['--bogus'], '--bogus'],
  ];
  for (const [label, flags, mention] of cases) {
    it(label, async () => {
      // A target that wrongly starts would run until killed: the timeout ends it and the exit check fails.
      const r = await runHerd(['target', ...flags], { timeoutMs: 15_000 });
      expectBadInput(r, mention);
      expect(r.stdout).not.toContain('listening');
    });
  }
});

describe('unknown commands', () => {
  it('exit 2 naming the command', async () => {
    expectBadInput(await runHerd(['stampede']), 'stampede');
  });
});
