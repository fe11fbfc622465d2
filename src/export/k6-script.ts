/**
 * The fixed parts of an exported k6 script (pure text): metrics, the per-iteration entry point
 * that recomputes herd's intended time, and the outcome recorders every device mapper calls.
 */
import type { IntendedTimes } from './k6-waves.js';
import { K6_METRICS } from './k6-thresholds.js';

/** Variable names of the script's metric objects, by herd metric. */
const METRIC_VARS: Readonly<Record<string, string>> = {
  'connect.total': 'herdConnectTotal',
  'connect.service': 'herdConnectService',
  'connect.scheduleLag': 'herdScheduleLag',
  'connect.failed': 'herdConnectFailed',
  'errors.rate': 'herdErrors',
  'connect.successRate': 'herdConnectSuccess',
  'attempts.succeeded': 'herdSucceeded',
  'attempts.failed': 'herdFailed',
  'attempts.timedOut': 'herdTimedOut',
};

export function metricDeclarations(): string {
  return Object.entries(METRIC_VARS)
    .map(([herd, v]) => {
      const m = K6_METRICS[herd];
      if (!m) throw new Error(`internal: no k6 metric for ${herd}`);
      const isTime = m.type === 'Trend' ? ', true' : '';
      return `/** herd ${herd}: ${m.how}. */\nconst ${v} = new ${m.type}(${JSON.stringify(m.name)}${isTime});`;
    })
    .join('\n');
}

export interface WaveEntry {
  scenario: string;
  firstId: number;
  intended: IntendedTimes;
}

export function wavesTable(entries: readonly WaveEntry[]): string {
  const rows = entries.map((e) => {
    const t = e.intended;
    const fields =
      t.kind === 'even'
        ? `kind: 'even', atUs: ${t.atUs}, spanUs: ${t.spanUs}, everyUs: 0, steps: 1`
        : `kind: 'bursts', atUs: ${t.atUs}, spanUs: 0, everyUs: ${t.everyUs}, steps: ${t.steps}`;
    return `  ${JSON.stringify(e.scenario)}: { firstId: ${e.firstId}, devices: ${t.devices}, ${fields} },`;
  });
  return `/** herd's waves by k6 scenario name: enough to recompute each device's intended start. */
interface HerdWave {
  firstId: number;
  devices: number;
  kind: 'even' | 'bursts';
  atUs: number;
  spanUs: number;
  everyUs: number;
  steps: number;
}
const WAVES: Record<string, HerdWave> = {
${rows.join('\n')}
};`;
}

/** Entry point, helpers and recorders; expects TARGET, TEARDOWN_US, WAVES, metrics and connectDevice. */
export function runtimeCode(): string {
  return `interface SetupData {
  runId: string;
}

/** One device's iteration: its herd id and times in epoch milliseconds. */
interface DeviceRun {
  id: number;
  runId: string;
  intendedMs: number;
  teardownMs: number;
}

/** {run} in identity templates: HERD_RUN_ID, or one id for the whole test made in setup(). */
export function setup(): SetupData {
  return { runId: __ENV['HERD_RUN_ID'] ?? 'k6-' + Date.now().toString(36) };
}

/** Each iteration is one device: k6 starts it at herd's intended time (see options.scenarios). */
export default function (data: SetupData): void {
  const wave = WAVES[exec.scenario.name];
  if (wave === undefined) throw new Error('no herd wave for k6 scenario ' + exec.scenario.name);
  const i = exec.scenario.iterationInTest;
  // The run origin is k6's test start; the scenario started atUs after it.
  const originMs = exec.scenario.startTime - wave.atUs / 1000;
  // Counters get a sample every iteration so their thresholds are always evaluated.
  herdSucceeded.add(0);
  herdFailed.add(0);
  herdTimedOut.add(0);
  connectDevice({
    id: wave.firstId + i,
    runId: data.runId,
    intendedMs: originMs + intendedUs(wave, i) / 1000,
    teardownMs: originMs + TEARDOWN_US / 1000,
  });
}

/** herd's plan (src/plan/plan.ts) in closed form: the intended start of the wave's i-th device. */
function intendedUs(w: HerdWave, i: number): number {
  if (w.kind === 'even') return w.atUs + Math.floor((i * w.spanUs) / w.devices);
  return w.atUs + (Math.ceil(((i + 1) * w.steps) / w.devices) - 1) * w.everyUs;
}

/** Expands {id}, {run} and {worker} like herd; unknown names stay as written. */
function expand(template: string, d: DeviceRun): string {
  return template.replace(/\\{(\\w+)\\}/g, (whole: string, name: string) => {
    if (name === 'id') return String(d.id);
    if (name === 'run') return d.runId;
    if (name === 'worker') return String(exec.vu.idInTest);
    return whole;
  });
}

function recordConnected(d: DeviceRun, openedMs: number, doneMs: number): void {
  herdConnectTotal.add(Math.max(0, doneMs - d.intendedMs));
  herdConnectService.add(doneMs - openedMs);
  herdErrors.add(false);
  herdConnectSuccess.add(true);
  herdSucceeded.add(1);
}

function recordFailed(d: DeviceRun, doneMs: number, timedOut: boolean): void {
  herdConnectFailed.add(Math.max(0, doneMs - d.intendedMs));
  herdErrors.add(true);
  herdConnectSuccess.add(false);
  if (timedOut) herdTimedOut.add(1);
  else herdFailed.add(1);
}`;
}
