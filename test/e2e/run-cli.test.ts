import { warmHandshakes } from '../../src/engine/warm-engine.js';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { freePort } from '../helpers/mosquitto.js';
import { expectExit, runHerd } from '../helpers/cli.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'herd-e2e-'));
}

function onlyResults(out: string): Results {
  const runs = readdirSync(out).filter((d) => !d.startsWith('.'));
  expect(runs).toHaveLength(1);
  return JSON.parse(readFileSync(join(out, runs[0] as string, 'results.json'), 'utf8')) as Results;
}

describe('herd run against the embedded target', () => {
  it('runs the quickstart: 1,000 planned → 1,000 succeeded, 0 errors, exit 0', async () => {
    const out = tmp();
    // What is tested is the target's answer and the accounting, not whether the shared cores were
    // quiet: the quickstart runs as bundled but for its one latency threshold (connect.total
    // p(99) < 1s measures the machine as much as the target), and --allow-saturated keeps the
    // harness's verdict on itself out of the exit code. Every threshold left must pass: exit 0.
    const bundled = readFileSync('scenarios/quickstart.yaml', 'utf8');
    const latencyLine = '  connect.total: ["p(99) < 1s"]\n';
    expect(bundled).toContain(latencyLine);
    const scenario = join(out, 'quickstart.yaml');
    writeFileSync(scenario, bundled.replace(latencyLine, ''));
    const r = await runHerd(['run', scenario, '--out', join(out, 'reports'), '--allow-saturated']);
    expect(r.stderr).not.toMatch(/internal error/);
    const res = onlyResults(join(out, 'reports'));
    expectExit(r, 0);
    expect(res.schemaVersion).toBe('1.8.0');
    expect(res.run.warmUp).toBe(true);
    // Each worker warmed up on a loopback listener of its own before the origin, and the summary
    // says the target never saw it (how many it completed within its bound is the machine's speed).
    for (const w of res.health.workers) {
      expect(w.warmUp?.handshakes).toBeGreaterThanOrEqual(1);
      expect(w.warmUp?.handshakes).toBeLessThanOrEqual(warmHandshakes(w.devices));
    }
    expect(r.stdout).toMatch(/warm-up [\d,]+ handshakes on herd's own loopback listeners? \(not the target\)/);
    expect(res.run.allowSaturated).toBe(true);
    expect(res.run.embeddedTargetKnobs).toBe(
      'profile default: no CONNECT cost, no admission control, no connection cap, 1 process',
    );
    expect(res.run.status).toBe('completed');
    expect(res.run.verdict).toBe('passed');
    expect(res.run.embeddedTarget).toBe(true);
    expect(res.run.target).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(res.attempts).toEqual({
      planned: 1000,
      reconnects: 0,
      offline: 0,
      gaveUp: 0,
      started: 1000,
      succeeded: 1000,
      failed: 0,
      timedOut: 0,
      dropped: 0,
      inFlightAtEnd: 0,
      lostToHarness: 0,
    });
    expect(res.accounting.balanced).toBe(true);
    expect(res.errors).toEqual([]);
    expect(res.latency['connect.total']?.count).toBe(1000);
    expect(res.latency['phase.tcpConnect']?.count).toBe(1000);
    expect(res.latency['phase.mqttConnack']?.count).toBe(1000);
    // total = service + schedule lag per attempt, so its median can never be below the service median.
    expect(res.latency['connect.total']!.p50Us).toBeGreaterThanOrEqual(res.latency['connect.service']!.p50Us);
    expect(res.thresholds.map((t) => [t.metric, t.passed])).toEqual([
      ['errors.rate', true],
      ['sessions.lostRate', true],
      ['attempts.dropped', true],
    ]);
    expect(res.environment.openFileLimit.soft).toBeGreaterThan(0);
    // The timeline ramps up to the whole fleet and back to zero after teardown.
    const peak = Math.max(...res.timeline.buckets.map((b) => b.connected));
    expect(peak).toBe(1000);
    expect(res.timeline.buckets.reduce((a, b) => a + b.attempts, 0)).toBe(1000);
    expect(r.stdout).toContain('Verdict: PASSED (exit 0)');
    expect(r.stdout).toContain('succeeded 1000 of 1000 started (100.0%)');
    expect(r.stdout).toContain('sessions lost 0 of 1000 established (0.0%)');
    expect(r.stdout).toContain('planned 1000 = succeeded 1000 + failed 0 + timed out 0 + dropped 0 + in flight 0');
  });

  it('--no-warm-up starts the storm without a warm-up, and the results and summary say so', async () => {
    const out = tmp();
    const scenario = join(out, 's.yaml');
    writeFileSync(scenario, 'name: cold\ndevices: 40\nwaves: [{type: ramp, over: 200ms}]\nhold: 2s\n');
    const r = await runHerd([
      'run',
      scenario,
      '--out',
      join(out, 'reports'),
      '--workers',
      '2',
      '--no-warm-up',
      '--allow-saturated',
    ]);
    expectExit(r, 0);
    const res = onlyResults(join(out, 'reports'));
    expect(res.run.warmUp).toBe(false);
    expect(res.health.workers.map((w) => w.warmUp)).toEqual([null, null]);
    expect(res.attempts.succeeded).toBe(40);
    expect(r.stdout).toContain('warm-up off (--no-warm-up): the storm started on code V8 had not optimised');
    expect(r.stdout).not.toMatch(/handshakes on herd's own loopback listener/);
  });

  it('counts every attempt against a closed port as a network error and exits 3 before running', async () => {
    const out = tmp();
    const port = await freePort();
    const r = await runHerd(['run', 'scenarios/quickstart.yaml', '--target', `mqtt://127.0.0.1:${port}`, '--out', out]);
    expectExit(r, 3);
    expect(r.stderr).toContain(
      `E_TARGET_UNREACHABLE: target mqtt://127.0.0.1:${port} is unreachable: connection refused`,
    );
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('bad input: one clear message, exit 2, nothing written', () => {
  const cases: [string, string, RegExp][] = [
    ['missing file', '', /E_SCENARIO_FILE: .*nope\.yaml: cannot read the scenario file \(no such file\)/],
    ['invalid YAML', 'name: [unclosed\n', /E_SCENARIO_PARSE: .*: not valid YAML or JSON at line/],
    ['unknown field', 'name: x\ndevices: 1\nwaves: [{type: spike}]\ncolour: red\n', /colour: unknown field/],
    [
      'negative device count',
      'name: x\ndevices: -1\nwaves: [{type: spike}]\n',
      /devices: expected a number greater than 0/,
    ],
    [
      'unsupported scheme',
      'name: x\ndevices: 1\ntarget: "http://127.0.0.1:1"\nwaves: [{type: spike}]\n',
      /target: unsupported scheme "http:\/\/"; supported: mqtt:\/\//,
    ],
  ];
  for (const [label, content, message] of cases) {
    it(label, async () => {
      const dir = tmp();
      const out = join(dir, 'reports');
      const file = join(dir, label === 'missing file' ? 'nope.yaml' : 's.yaml');
      if (content !== '') writeFileSync(file, content);
      const r = await runHerd(['run', file, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    });
  }

  it('names a bad flag', async () => {
    const r = await runHerd(['run', 'scenarios/quickstart.yaml', '--target', 'ftp://127.0.0.1:21']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_TARGET_URL: --target: unsupported scheme "ftp://"; supported: mqtt://');
    const w = await runHerd(['run', 'scenarios/quickstart.yaml', '--workers', '0']);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain('--workers: expected a whole number from 1 to 256, got "0"');
  });
});

describe('help and validate', () => {
  it('teaches usage with examples', async () => {
    const r = await runHerd(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('herd run scenarios/quickstart.yaml');
    const run = await runHerd(['run', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Examples:\n\s+\$ herd run scenarios\/quickstart\.yaml/);
  });

  it('validates a scenario without opening a socket', async () => {
    const r = await runHerd(['validate', 'scenarios/quickstart.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('scenario "quickstart" is valid');
    expect(r.stdout).toContain('1000 devices → embedded');
  });
});

describe('a run whose thresholds fail', () => {
  it('exits 1 and leaves JUnit XML and a Markdown summary that say which threshold failed', async () => {
    const dir = tmp();
    const file = join(dir, 's.yaml');
    writeFileSync(
      file,
      'name: impossible\ndevices: 100\nwaves:\n  - { type: ramp, over: 1s }\nhold: 1s\nthresholds:\n  connect.total: ["p(99) < 1us"]\n  errors.rate: ["< 1%"]\n',
    );
    const summaryPath = join(dir, 'step-summary.md');
    writeFileSync(summaryPath, '');
    // A 1 µs p99 could pass with the harness's delay taken out, so a sustained slow second on shared
    // cores would make this exit 3: --allow-saturated keeps the test about the threshold.
    const r = await runHerd(['run', file, '--out', join(dir, 'out'), '-q', '--allow-saturated'], {
      env: { GITHUB_STEP_SUMMARY: summaryPath },
    });
    expectExit(r, 1);
    const [id] = readdirSync(join(dir, 'out'));
    const junit = readFileSync(join(dir, 'out', id as string, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase [^>]*name="connect\.total: p\(99\) &lt; 1us"[^>]*>\s*<failure/);
    expect(junit).toContain('tests="5" failures="1"');
    expect(junit).toMatch(
      /<testcase [^>]*name="errors\.rate: &lt; 1%"[^>]*>\s*<system-out>observed 0\.00%<\/system-out>\s*<\/testcase>/,
    );
    const md = readFileSync(join(dir, 'out', id as string, 'summary.md'), 'utf8');
    expect(md).toContain('connect.total');
    expect(md).toMatch(/✗/);
    // The same Markdown is appended to the CI step summary.
    expect(readFileSync(summaryPath, 'utf8')).toBe(md + '\n');
  });
});
