/**
 * `herd compare --format html` in real headless Chromium: the page's own check (getBBox of every
 * chart line) must find the overlay drawn — both sides' connected devices and attempts, and each
 * phase's percentile curves — and a screenshot must be a real picture. Skips when Chromium is
 * absent (a failure with HERD_REQUIRE_EXTERNAL=1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { externalProgram } from '../helpers/external.js';
import { runHerd } from '../helpers/cli.js';

const chromium = externalProgram('chromium');

const SCENARIO = `
name: e2e-compare-html
devices: 150
waves:
  - type: ramp
    over: 2s
hold: 1s
`;

function chrome(args: string[], profile: string): Promise<string> {
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
        else resolve(stdout);
      },
    );
  });
}

describe.skipIf(!chromium)('compare.html in headless Chromium', () => {
  let dir = '';
  let html = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herd-compare-html-'));
    writeFileSync(join(dir, 'scenario.yaml'), SCENARIO);
    // One real run compared with itself: the page draws both sides from a fresh results file, and
    // the verdict is known before the run (nothing changed: passed, exit 0). Two runs of one
    // scenario could differ by noise either way, which would leave the exit code to chance.
    // --allow-saturated: this test checks drawing, not the harness's verdict on itself.
    const r = await runHerd(['run', join(dir, 'scenario.yaml'), '--out', join(dir, 'base'), '-q', '--allow-saturated']);
    expect(r.code, r.stderr).toBe(0);
    const base = join(dir, 'base', readdirSync(join(dir, 'base'))[0] ?? '', 'results.json');
    html = join(dir, 'compare.html');
    const c = await runHerd(['compare', base, base, '--format', 'html', '-o', html]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain('wrote html comparison to');
  }, 120_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('is one self-contained page: no external resource', () => {
    const page = readFileSync(html, 'utf8');
    expect(page).not.toMatch(/\b(?:src|href)="(?:https?:)?\/\//);
    expect(page).not.toMatch(/@import|url\(/);
  });

  it('draws both sides in every chart: the page measures its own SVG lines after layout', async () => {
    const dom = await chrome(['--dump-dom', pathToFileURL(html).href], join(dir, 'profile-dom'));
    const rendered = /<html[^>]* data-charts-rendered="(\d+)"/.exec(dom);
    expect(rendered, 'the inline render check did not run').not.toBeNull();
    const boxes = new Map(
      [...dom.matchAll(/<path class="series[^"]*" data-series="([^"]+)"[^>]*data-rendered-box="(\d+)x(\d+)"/g)].map(
        (m) => [m[1] as string, { w: Number(m[2]), h: Number(m[3]) }],
      ),
    );
    // 150 devices ramp up over 2 s on each side: wide, tall lines.
    for (const side of ['base', 'cand']) {
      expect(boxes.get(`${side}-connected-1`)?.w, side).toBeGreaterThan(200);
      expect(boxes.get(`${side}-connected-1`)?.h, side).toBeGreaterThan(50);
      expect(boxes.get(`${side}-attempts-1`)?.w, side).toBeGreaterThan(100);
      for (const series of ['connect.total', 'phase.tcpConnect', 'phase.mqttConnack']) {
        const b = boxes.get(`${side}-${series}-1`);
        expect((b?.w ?? 0) + (b?.h ?? 0), `${side} ${series}`).toBeGreaterThan(100);
      }
    }
    expect(Number(rendered?.[1])).toBeGreaterThanOrEqual(16);
    expect(dom).toContain('id="chart-connected"');
    expect(dom).toContain('id="chart-rates"');
    expect(dom).toContain('id="chart-latency-connect-total"');
    expect(dom).toContain('<span class="badge passed" id="verdict">');
    expect(dom).toContain('<table id="rows">');
  });

  it('renders a screenshot that is a real picture', async () => {
    const png = join(dir, 'compare.png');
    await chrome(
      ['--window-size=1200,2400', `--screenshot=${png}`, pathToFileURL(html).href],
      join(dir, 'profile-shot'),
    );
    const buf = readFileSync(png);
    expect(buf.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(buf.readUInt32BE(16)).toBe(1200);
    // A blank page compresses to a few KB; charts, text and tables do not.
    expect(statSync(png).size).toBeGreaterThan(60_000);
  });
});
