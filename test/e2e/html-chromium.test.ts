/**
 * report.html in real headless Chromium: the page's own check (getBBox of every chart series)
 * must find drawn paths, and a screenshot must be a real picture. Skips when Chromium is absent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { externalProgram } from '../helpers/external.js';
import { runHerd, expectExit } from '../helpers/cli.js';

const chromium = externalProgram('chromium');

const SCENARIO = `
name: e2e-html
devices: 150
waves:
  - type: ramp
    name: warm
    devices: 50
    over: 1s
  - type: spike
    name: storm
    at: 2s
hold: 1s
thresholds:
  connect.total: ["p(99) < 10s"]
`;

function chrome(args: string[], profile: string): Promise<{ stdout: string; stderr: string }> {
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      chromium as string,
      [...flags, ...args],
      { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

describe.skipIf(!chromium)('report.html in headless Chromium', () => {
  let dir = '';
  let html = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herd-html-e2e-'));
    writeFileSync(join(dir, 'scenario.yaml'), SCENARIO);
    const run = await runHerd([
      'run',
      join(dir, 'scenario.yaml'),
      '--out',
      join(dir, 'out'),
      '-q',
      '--allow-saturated',
    ]);
    expectExit(run, 0);
    const results = join(dir, 'out', readdirSync(join(dir, 'out'))[0] ?? '', 'results.json');
    html = join(dir, 'report.html');
    const r = await runHerd(['report', results, '--format', 'html', '-o', html]);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('draws every chart: the page measures its own SVG paths after layout', async () => {
    const { stdout: dom } = await chrome(['--dump-dom', pathToFileURL(html).href], join(dir, 'profile-dom'));
    const rendered = /<html[^>]* data-charts-rendered="(\d+)"/.exec(dom);
    expect(rendered, 'the inline render check did not run').not.toBeNull();
    const boxes = new Map(
      [...dom.matchAll(/<path class="series[^"]*" data-series="([^"]+)"[^>]*data-rendered-box="(\d+)x(\d+)"/g)].map(
        (m) => [m[1] as string, { w: Number(m[2]), h: Number(m[3]) }],
      ),
    );
    // connected devices rise from 0 to 150: a wide and tall line
    expect(boxes.get('connected')?.w).toBeGreaterThan(200);
    expect(boxes.get('connected')?.h).toBeGreaterThan(50);
    for (const s of ['succeeded', 'attempts', 'connect.total', 'phase.tcpConnect', 'phase.mqttConnack']) {
      const b = boxes.get(s);
      expect(b, s).toBeDefined();
      expect((b?.w ?? 0) + (b?.h ?? 0), s).toBeGreaterThan(0);
    }
    // Latency over time: seconds without completions break the lines, so a short run may draw
    // some percentiles only as dots; each must have drawn something.
    const dots = new Map(
      [...dom.matchAll(/<g class="dots[^"]*" data-dots-for="([^"]+)"[^>]*data-rendered-box="(\d+)x(\d+)"/g)].map(
        (m) => [m[1] as string, Number(m[2]) + Number(m[3])],
      ),
    );
    for (const s of ['p50', 'p90', 'p99', 'max']) {
      const line = boxes.get(s);
      expect((line?.w ?? 0) + (line?.h ?? 0) + (dots.get(s) ?? 0), s).toBeGreaterThan(0);
    }
    expect(Number(rendered?.[1])).toBeGreaterThanOrEqual(12);
    expect(dom).toContain('data-wave="warm"');
    expect(dom).toContain('data-wave="storm"');
    expect(dom).toContain('<table id="thresholds">');
  });

  it('renders a screenshot that is a real picture', async () => {
    const png = join(dir, 'report.png');
    await chrome(
      ['--window-size=1200,2600', `--screenshot=${png}`, pathToFileURL(html).href],
      join(dir, 'profile-shot'),
    );
    const buf = readFileSync(png);
    expect(buf.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(buf.readUInt32BE(16)).toBe(1200);
    expect(buf.readUInt32BE(20)).toBe(2600);
    // A blank 1200×2600 page compresses to a few KB; charts, text and tables do not.
    expect(statSync(png).size).toBeGreaterThan(60_000);
  });
});
