/**
 * One validation pass over a scenario: schema problems, threshold grammar problems and
 * cross-field problems (wave counts against the fleet, cohort shares and names, websocket devices'
 * options…) are reported together, each with its path, in one E_SCENARIO_INVALID (exit 2). Cross-
 * field checks run on every top-level field that passed the schema on its own, so a typo elsewhere
 * does not hide them; they reuse resolve.ts's helpers so they count exactly as the conversion does.
 */
import type { z } from 'zod';
import { HerdError } from '../errors.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import { DURATION_TOO_LONG, formatUs, MAX_DURATION_US, mustParseDurationUs } from '../util/duration.js';
import { parseTargetUrl } from '../util/target-url.js';
import {
  cohortDeviceOptions,
  fleetSize,
  isConnectInput,
  parseShare,
  resolveDevice,
  resolveScenario,
  resolveWaves,
  type Overrides,
  type WaveInput,
} from './resolve.js';
import { scenarioSchema, type Scenario } from './schema.js';
import { METRICS } from './threshold-metrics.js';
import { parseThresholds, type Threshold } from './threshold-parse.js';
import { didYouMean } from '../util/suggest.js';
import { fieldNamesAt } from './field-names.js';
import { applyUrlCredentials } from './url-credentials.js';
import { scenarioWarnings } from './warnings.js';
import { recoveryWarnings } from './recovery-warnings.js';
import { scenarioFileProblems, tlsFilesIn } from './files.js';
import { declaredProblems } from './declared-schema.js';
import { mqttStringProblem, topicNameProblem } from './template-rules.js';

export interface LoadedScenario {
  path: string;
  scenario: Scenario;
  resolved: ResolvedScenario;
  thresholds: Threshold[];
  /** Things that are valid but will not do what the user probably wants (printed, never fatal). */
  warnings: string[];
}

/** Churn events are planned ahead (pure plan), so their number is bounded like the fleet is. */
export const MAX_CHURN_EVENTS = 10_000_000;

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    // A key with a line break or another control character is quoted, so one problem stays one line.
    else if (/[\u0000-\u001f\u007f\u2028\u2029]/.test(String(seg))) out += `[${JSON.stringify(String(seg))}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(top level)' : out;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  return issues
    .map((raw) => {
      const i = { ...raw, path: [...prefix, ...raw.path] } as z.core.$ZodIssue;
      if (i.code === 'invalid_union' && i.errors.length > 0) {
        // Report the branch the input was meant for: one that got past the type check (a branch that
        // failed only on the value itself, a literal, was not "meant": the union's message says it),
        // and of those the one with the fewest problems, a problem of the whole value counting a
        // little more (a reconnect preset vs a policy object: each finds the other's key unknown).
        const wrongAtRoot = (x: z.core.$ZodIssue): boolean =>
          x.path.length === 0 && (x.code === 'invalid_type' || x.code === 'invalid_value');
        const weight = (b: readonly z.core.$ZodIssue[]): number =>
          b.length + (b.some((x) => x.path.length === 0) ? 0.5 : 0);
        const branch = i.errors
          .filter((b) => b.length > 0 && !b.some(wrongAtRoot))
          .reduce<readonly z.core.$ZodIssue[] | undefined>(
            (best, b) => (best === undefined || weight(b) < weight(best) ? b : best),
            undefined,
          );
        if (branch) return formatIssues(branch, i.path).join('\n');
      }
      if (i.code === 'unrecognized_keys') {
        // Suggestions cost an edit distance per known name: only the first keys get one (a file with
        // 40,000 unknown keys is answered in a moment, and only the first lines are printed anyway).
        const names = fieldNamesAt(i.path);
        return i.keys
          .map((k, n) => `${formatPath([...i.path, k])}: unknown field${n < 100 ? didYouMean(k, names) : ''}`)
          .join('\n');
      }
      if (i.code === 'invalid_type' && i.input === undefined) return `${formatPath(i.path)}: required`;
      return `${formatPath(i.path)}: ${i.message}`;
    })
    .flatMap((s) => s.split('\n'));
}

/** `cwd`: the command's working directory, against which relative TLS paths are read. */
export function validateScenario(data: unknown, path: string, overrides: Overrides = {}, cwd?: string): LoadedScenario {
  const proto = typeof data === 'object' && data !== null ? Object.getPrototypeOf(data) : undefined;
  if (
    typeof data !== 'object' ||
    data === null ||
    Array.isArray(data) ||
    (proto !== Object.prototype && proto !== null)
  ) {
    throw new HerdError('E_SCENARIO_INVALID', `${path}: expected a mapping of scenario fields at the top level`);
  }
  // A bad --target is named as the flag, whichever command passed it.
  if (overrides.target !== undefined && overrides.target !== 'embedded') parseTargetUrl(overrides.target, '--target');
  const parsed = scenarioSchema.safeParse(data, { reportInput: true });
  const problems: string[] = parsed.success ? [] : formatIssues(parsed.error.issues);
  const t = thresholdProblems(data as Record<string, unknown>, parsed.success ? parsed.data : null);
  problems.push(...t.problems);
  const fields = parsed.success ? parsed.data : fieldsThatParse(data as Record<string, unknown>);
  problems.push(...crossFieldProblems(fields, overrides));
  if (!parsed.success || problems.length > 0) {
    throw new HerdError(
      'E_SCENARIO_INVALID',
      `${path}: the scenario has ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      problems,
    );
  }
  checkFleetNotEmpty(parsed.data.devices, overrides);
  const withCreds = namedAfter(path, () => applyUrlCredentials(resolveScenario(parsed.data, overrides)));
  const resolved = cwd === undefined ? withCreds.scenario : tlsFilesIn(withCreds.scenario, cwd);
  const missing = scenarioFileProblems(resolved, parsed.data.cohorts !== undefined);
  if (missing.length > 0) {
    throw new HerdError(
      'E_SCENARIO_INVALID',
      `${path}: the scenario has ${missing.length} problem${missing.length === 1 ? '' : 's'}`,
      missing,
    );
  }
  const warnings = [...withCreds.warnings, ...scenarioWarnings(resolved), ...recoveryWarnings(resolved)];
  return { path, scenario: parsed.data, resolved, thresholds: t.thresholds, warnings };
}

/** The scenario problems `fn` finds, under the file's name like every other scenario problem. */
function namedAfter<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof HerdError) || err.code !== 'E_SCENARIO_INVALID') throw err;
    const n = err.details.length;
    throw new HerdError(
      'E_SCENARIO_INVALID',
      `${path}: the scenario has ${n} problem${n === 1 ? '' : 's'}`,
      err.details,
    );
  }
}

/** A --scale (or --devices) that rounds the fleet down to nothing is a bad flag, not an empty run. */
function checkFleetNotEmpty(scenarioDevices: number, o: Overrides): void {
  const base = o.devices ?? scenarioDevices;
  const scale = o.scale ?? 1;
  if (Math.round(base * scale) >= 1) return;
  const minScale = Math.ceil((0.5 / base) * 1e6) / 1e6;
  throw new HerdError(
    'E_FLAG',
    `--scale ${scale}: ${base} devices × ${scale} rounds to 0 devices; expected a scale of at least ${minScale}`,
  );
}

function thresholdProblems(
  raw: Record<string, unknown>,
  parsed: Scenario | null,
): { thresholds: Threshold[]; problems: string[] } {
  const problems: string[] = [];
  const given = raw.thresholds;
  // Keys such as "__proto__" do not survive into a parsed record: check the raw object's own keys.
  if (given !== null && typeof given === 'object' && !Array.isArray(given)) {
    for (const key of Object.keys(given)) {
      if (key === '__proto__' && !Object.hasOwn(METRICS, key))
        problems.push(`thresholds.${key}: unknown metric${didYouMean(key, Object.keys(METRICS))}`);
    }
  }
  if (parsed !== null) {
    const spec = Object.fromEntries(
      Object.entries(parsed.thresholds ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
    );
    const t = parseThresholds(spec);
    return { thresholds: t.thresholds, problems: [...problems, ...t.problems] };
  }
  if (given && typeof given === 'object') {
    // Still check threshold expressions so every problem is reported at once.
    const spec = Object.fromEntries(
      Object.entries(given as Record<string, unknown>).map(([k, v]) => [
        k,
        (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string'),
      ]),
    );
    problems.push(...parseThresholds(spec).problems);
  }
  return { thresholds: [], problems };
}

/** The top-level fields that pass the schema on their own (with their defaults); the others are left out. */
function fieldsThatParse(data: Record<string, unknown>): Partial<Scenario> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(scenarioSchema.shape)) {
    const r = (schema as z.ZodType).safeParse(data[key]);
    if (r.success) out[key] = r.data;
  }
  return out as Partial<Scenario>;
}

/** Problems no single field shows; each check runs when the fields it relates are present and valid. */
export function crossFieldProblems(s: Partial<Scenario>, overrides: Overrides = {}): string[] {
  const problems: string[] = [];
  if (s.waves !== undefined) problems.push(...waveProblems(s.waves, s, overrides));
  if (s.cohorts !== undefined) problems.push(...cohortProblems(s.cohorts));
  if (s.device !== undefined) problems.push(...deviceProblems(s.device, s.cohorts));
  if (s.declaredOutages !== undefined) problems.push(...declaredProblems(s.declaredOutages, runEndUs(s)));
  return problems;
}

/** When teardown starts, as resolve.ts computes it; null when the fields it needs are not valid. */
function runEndUs(s: Partial<Scenario>): number | null {
  if (s.duration !== undefined) return mustParseDurationUs(s.duration);
  if (s.waves === undefined) return null;
  return resolveWaves(s.waves, 0, 1).lastEventUs + (s.hold === undefined ? 0 : mustParseDurationUs(s.hold));
}

function waveProblems(waves: readonly WaveInput[], s: Partial<Scenario>, overrides: Overrides): string[] {
  const problems: string[] = [];
  const connect = waves.map((w, i) => ({ w, i })).filter(({ w }) => isConnectInput(w));
  const isOpen = (w: WaveInput): boolean => w.type !== 'rate' && (w as { devices?: number }).devices === undefined;
  const openIndex = connect.find(({ w }) => isOpen(w))?.i ?? -1;
  for (const { w, i } of connect) {
    if (isOpen(w) && i !== openIndex)
      problems.push(`waves[${i}].devices: only one wave may leave its device count out (it takes the devices left)`);
  }
  const fleet = s.devices === undefined ? null : fleetSize(s.devices, overrides);
  // Wave timing does not depend on the fleet; counts do, and are checked only when devices is valid.
  const r = resolveWaves(waves, fleet?.devices ?? 0, fleet?.waveScale ?? 1);
  r.waves.forEach((w, i) => {
    if (w.type === 'outage' && w.cohort !== null && !(s.cohorts ?? []).some((c) => c.name === w.cohort)) {
      problems.push(`waves[${i}].cohort: no cohort is named "${w.cohort}"`);
    }
    if (w.type === 'churn' && fleet !== null) {
      const events = w.perMinute * fleet.devices * (w.overUs / 60e6);
      if (events > MAX_CHURN_EVENTS) {
        problems.push(
          `waves[${i}]: this churn would disconnect ${Math.round(events).toLocaleString('en')} devices; at most ${MAX_CHURN_EVENTS.toLocaleString('en')} per wave`,
        );
      }
    }
  });
  if (connect.length === 0) problems.push('waves: at least one wave must connect devices (ramp, spike, steps or rate)');
  if (fleet !== null && r.assigned !== fleet.devices && connect.length > 0) {
    problems.push(
      `waves: the waves connect ${r.assigned} devices but devices is ${fleet.devices}` +
        (fleet.scale !== 1 ? ` (after --scale ${fleet.scale})` : '') +
        '; give one wave no device count to take the rest, or make the counts add up',
    );
  }
  if (s.duration !== undefined && mustParseDurationUs(s.duration) < r.lastEventUs) {
    problems.push(`duration: ${s.duration} ends before the last wave does (at ${r.lastEventUs / 1e6}s)`);
  }
  // Each duration is capped, but waves add up: the run as a whole must fit a timer too.
  const endUs =
    s.duration !== undefined
      ? mustParseDurationUs(s.duration)
      : r.lastEventUs + (s.hold === undefined ? 0 : mustParseDurationUs(s.hold));
  if (endUs > MAX_DURATION_US) {
    problems.push(
      `${s.duration !== undefined ? 'duration' : 'waves'}: the run would last ${formatUs(endUs)} (waves end at ${formatUs(r.lastEventUs)}, then hold); ${DURATION_TOO_LONG}`,
    );
  }
  return problems;
}

function cohortProblems(cohorts: NonNullable<Scenario['cohorts']>): string[] {
  const problems: string[] = [];
  const total = cohorts.reduce((a, c) => a + parseShare(c.share), 0);
  if (Math.abs(total - 1) > 1e-9)
    problems.push(`cohorts: the shares add up to ${Math.round(total * 10_000) / 100}%, expected 100%`);
  const names = new Set<string>();
  cohorts.forEach((c, i) => {
    if (names.has(c.name)) problems.push(`cohorts[${i}].name: "${c.name}" is used twice`);
    names.add(c.name);
    c.targets?.forEach((t, j) => {
      try {
        parseTargetUrl(t, `cohorts[${i}].targets[${j}]`);
      } catch (err) {
        problems.push((err as Error).message);
      }
    });
  });
  return problems;
}

/** What each cohort's devices (or the scenario's, without cohorts) cannot combine. */
function deviceProblems(base: Scenario['device'], cohorts: Scenario['cohorts']): string[] {
  const problems: string[] = [];
  const each =
    cohorts === undefined
      ? [{ where: 'device', d: resolveDevice(base), ownTargets: false, i: -1 }]
      : cohorts.map((c, i) => ({
          where: `cohorts[${i}].device`,
          d: resolveDevice(cohortDeviceOptions(base, c)),
          ownTargets: c.targets !== undefined,
          i,
        }));
  for (const { where, d } of each) {
    if (d.protocol !== 'websocket') continue;
    if (d.transport === 'mqtts') problems.push(`${where}.transport: websocket devices use ws or wss, not mqtts`);
    if (d.publish !== null)
      problems.push(`${where}.publish: telemetry is for MQTT devices; websocket devices do not publish`);
    if (d.requests !== null) problems.push(`${where}.requests: requests are for MQTT devices`);
    if (d.downlink !== null) problems.push(`${where}.downlink: downlink messages are for MQTT devices`);
  }
  // A cohort's name goes into the texts that use {cohort}: it must suit MQTT there too.
  (cohorts ?? []).forEach((c, i) => {
    const d = resolveDevice(cohortDeviceOptions(base, c));
    const uses = (t: string | null | undefined): boolean => t?.includes('{cohort}') === true;
    const problem =
      d.protocol !== 'mqtt'
        ? null
        : uses(d.publish?.topic)
          ? topicNameProblem(c.name)
          : uses(d.clientId) || uses(d.username)
            ? mqttStringProblem(c.name)
            : null;
    if (problem !== null)
      problems.push(`cohorts[${i}].name: ${problem} (the name fills {cohort} in its MQTT identity or topic)`);
  });
  for (const { d, ownTargets, i } of each) {
    if (d.requests !== null && ownTargets)
      problems.push(
        `cohorts[${i}].requests: requests go through the run's target; a cohort with its own targets cannot take them`,
      );
    if (d.downlink !== null && ownTargets)
      problems.push(
        `cohorts[${i}].downlink: the cloud's messages go through the run's target; a cohort with its own targets cannot take them`,
      );
  }
  return problems;
}
