/**
 * `herd export k6`: a resolved scenario → a TypeScript k6 script typed against @types/k6 (pure,
 * no I/O). Every construct maps through one small function (waves: k6-waves.ts, devices:
 * k6-devices.ts, thresholds: k6-thresholds.ts); whatever k6 cannot express is a gap named by its
 * scenario field (k6-gaps.ts), listed under "not expressible in k6" at the top of the script —
 * including scenario fields this exporter does not know yet, so a growing schema is never
 * silently dropped — and what it only approximates under "approximated".
 */
import type { ConnectWave, ResolvedScenario } from '../results/resolved-scenario.js';
import { waveLengthUs } from '../results/resolved-scenario.js';
import { k6Gaps, type K6Gap } from './k6-gaps.js';
import type { Threshold } from '../scenario/threshold-parse.js';
import { mapDevice } from './k6-devices.js';
import { metricDeclarations, runtimeCode, wavesTable, type WaveEntry } from './k6-script.js';
import { mapThresholds } from './k6-thresholds.js';
import { k6Duration, mapWave, wavesOverlap, type K6Scenario } from './k6-waves.js';

export interface K6ExportOptions {
  herdVersion: string;
  /** The scenario file, as the user named it. */
  scenarioPath: string;
  /** The herd command line that produced the script. */
  exportCommand: string;
  /** File name of the script, for the run command in the header (e.g. "storm.ts"). */
  scriptName: string;
}

/** Time left after teardown for in-flight connects and clean disconnects, beyond the connect timeout. */
const CLOSE_MARGIN_US = 5_000_000;

export function exportK6(s: ResolvedScenario, thresholds: readonly Threshold[], o: K6ExportOptions): string {
  const gaps = k6Gaps(s, thresholds);
  const notes: string[] = [];
  const device = mapDevice(s.device);
  notes.push(...device.notes);
  const ctx = { teardownUs: s.durationUs, graceUs: s.device.connectTimeoutUs + CLOSE_MARGIN_US };

  const scenarios: Record<string, K6Scenario> = {};
  const entries: WaveEntry[] = [];
  const connectWaves: ConnectWave[] = [];
  const names = new Set<string>();
  s.waves.forEach((wave) => {
    const type = (wave as { type: string }).type;
    // Outage, churn and unknown wave types are gaps (k6-gaps.ts): no k6 scenario.
    if (!CONNECT_TYPES.includes(type)) return;
    const w = wave as ConnectWave;
    const firstId = connectWaves.reduce((a, c) => a + Math.max(0, c.devices), 0);
    connectWaves.push(w);
    const m = mapWave(w, ctx);
    if (m === null) {
      notes.push(`wave "${w.name}" connects 0 devices: no k6 scenario`);
      return;
    }
    const name = uniqueName(w.name, names);
    scenarios[name] = m.scenario;
    entries.push({ scenario: name, firstId, intended: m.intended });
    notes.push(...m.notes);
  });
  if (wavesOverlap(connectWaves, waveLengthUs)) {
    notes.push('device ids ({id}) are numbered wave by wave; herd numbers overlapping waves in order of intended time');
  }
  const templates = [s.device.clientId, s.device.username ?? '', s.device.password ?? ''];
  if (templates.some((t) => t.includes('{worker}')))
    notes.push('{worker} in identity templates expands to the k6 VU id');

  const t = mapThresholds(thresholds);
  notes.push(...t.notes);

  const embedded = s.target === 'embedded';
  const runCommand = `${device.requires.length > 0 && s.device.protocol === 'mqtt' ? './k6' : 'k6'} run ${embedded ? '-e HERD_TARGET=mqtt://127.0.0.1:1883 ' : ''}${o.scriptName}`;
  const header = headerComment(s, o, runCommand, device.requires, gaps, notes);
  const refs = Object.keys(device.sidecars).map((f) => `/// <reference path="./${f}" />`);
  const options = { scenarios, thresholds: t.thresholds };

  return [
    ...refs,
    header,
    ...device.imports,
    "import exec from 'k6/execution';",
    "import { Counter, Rate, Trend } from 'k6/metrics';",
    "import type { Options } from 'k6/options';",
    "import { clearTimeout, setTimeout } from 'k6/timers';",
    '',
    targetCode(s.target),
    '',
    `/** Teardown: devices disconnect this long after the test starts (herd's scenario duration). */`,
    `const TEARDOWN_US = ${s.durationUs};`,
    '',
    wavesTable(entries),
    '',
    metricDeclarations(),
    '',
    `export const options: Options = ${renderOptions(options)};`,
    '',
    runtimeCode(),
    '',
    device.code,
    '',
  ].join('\n');
}

/** Files the script needs beside it (name → content), e.g. the xk6-mqtt declarations. */
export function k6Sidecars(s: ResolvedScenario): Record<string, string> {
  return mapDevice(s.device).sidecars;
}

function targetCode(target: string): string {
  if (target === 'embedded') {
    return `/** herd's embedded target exists only inside herd: run \`herd target\` and pass its URL. */
const TARGET: string = __ENV['HERD_TARGET'] ?? '';
if (TARGET === '') throw new Error('set HERD_TARGET to the target URL, e.g. k6 run -e HERD_TARGET=mqtt://127.0.0.1:1883 …');`;
  }
  return `/** Where devices connect: the scenario's target, unless HERD_TARGET overrides it. */
const TARGET: string = __ENV['HERD_TARGET'] ?? ${JSON.stringify(target)};`;
}

function headerComment(
  s: ResolvedScenario,
  o: K6ExportOptions,
  runCommand: string,
  requires: readonly string[],
  gaps: readonly K6Gap[],
  notes: readonly string[],
): string {
  const list = (items: readonly string[]): string[] =>
    items.flatMap((n) => wrap(n, 96).map((l, i) => (i === 0 ? `  - ${l}` : `    ${l}`)));
  const waves = `${s.waves.length} wave${s.waves.length === 1 ? '' : 's'}`;
  const vus = s.waves.reduce((a, w) => a + ('devices' in w ? Math.max(0, w.devices) : 0), 0);
  const lines = [
    `k6 script generated by herd ${o.herdVersion} from scenario "${s.name}" (${o.scenarioPath}).`,
    'Do not edit: change the scenario and export again.',
    '',
    `  exported with: ${o.exportCommand}`,
    `  scenario:      seed ${s.seed} · scale ${s.scale} · ${s.devices} devices · ${waves} · teardown at ${k6Duration(s.durationUs * 1000)} · target ${s.target}`,
    `  run with:      ${runCommand}`,
    ...(s.target === 'embedded' ? ['                 (after `herd target --port 1883` in another terminal)'] : []),
    '',
    "Each k6 iteration is one device: it connects at herd's intended time, holds until teardown and",
    `disconnects. k6 needs one VU per held connection: ${vus} VUs. Metrics: herd_* (see docs/k6.md).`,
    '',
    'Requires:',
    '  k6 v1.0 or newer (runs TypeScript directly).',
    ...requires.map((r) => `  ${r}`),
    '',
    'not expressible in k6 (left out of the script; `herd export k6 --strict` refuses them):',
    ...(gaps.length === 0
      ? ['  (nothing: every feature of this scenario is in the script)']
      : list(gaps.map((g) => `${g.field}: ${g.why}`))),
    '',
    'approximated:',
    ...(notes.length === 0 ? ['  (nothing)'] : list(notes)),
  ];
  return ['/*', ...lines.map((l) => (l === '' ? ' *' : ` * ${l.replaceAll('*/', '* /')}`)), ' */'].join('\n');
}

/** JSON (valid TypeScript) with each stage on one line: steps waves can have thousands. */
function renderOptions(options: object): string {
  return JSON.stringify(options, null, 2).replace(
    /\{\n\s+"duration": ("[^"]*"),\n\s+"target": (\d+)\n\s+\}/g,
    '{ "duration": $1, "target": $2 }',
  );
}

/** Word-wraps a line of the header to `width` columns. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out;
}

/** k6 scenario names: letters, digits, '-' and '_'; unique. */
function uniqueName(name: string, taken: Set<string>): string {
  const base = name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'wave';
  let n = base;
  for (let k = 2; taken.has(n); k++) n = `${base}-${k}`;
  taken.add(n);
  return n;
}

const CONNECT_TYPES: readonly string[] = ['ramp', 'spike', 'steps', 'rate'];

/** The scenario features the script leaves out, by scenario field name (for stderr and --strict). */
export { k6Gaps, type K6Gap } from './k6-gaps.js';
