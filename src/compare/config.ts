/**
 * What differs between the configurations of two sides of a comparison (pure), most important
 * first: the scenario (by a hash of everything that shapes the load), the target and the embedded
 * target's profile and knobs, herd and Node versions, workers, cores, seed, devices. What cannot
 * change the numbers is ignored: the embedded target's ports, run ids, timestamps, descriptions.
 */
import { createHash } from 'node:crypto';
import { HerdError } from '../errors.js';
import { describeWave } from '../report/labels.js';
import { hostNamesOf } from '../util/target-url.js';
import { parseTargetOptions, type ResolvedTargetOptions, type Results } from './results.js';

export interface ConfigItem {
  field: string;
  base: string;
  candidate: string;
  same: boolean;
}

/** Top-level scenario fields that shape the load; name, description and thresholds do not. */
const LOAD_FIELDS = [
  'version',
  'devices',
  'scale',
  'device',
  'cohorts',
  'waves',
  'outageWindows',
  'holdUs',
  'durationUs',
] as const;

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Whether any of the run's targets is given by host name (device.dnsTtl matters only then). */
function namesAnyTarget(r: Results): boolean {
  return hostNamesOf([r.run.target, ...(r.scenario.cohorts ?? []).flatMap((c) => c.targets ?? [])]).length > 0;
}

/**
 * The load-shaping fields of the resolved scenario. Without a target given by name, device.dnsTtl
 * shapes nothing (and files before 1.7.0 read it as 0): left out, so it never tells two runs apart.
 */
function loadShaping(r: Results): Record<string, unknown> {
  const s = r.scenario as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = Object.fromEntries(LOAD_FIELDS.map((f) => [f, s[f] ?? null]));
  if (namesAnyTarget(r)) return out;
  const noTtl = (d: unknown): unknown => {
    if (d === null || typeof d !== 'object') return d;
    const { dnsTtlUs: _ttl, ...rest } = d as Record<string, unknown>;
    return rest;
  };
  out.device = noTtl(out.device);
  if (Array.isArray(out.cohorts))
    out.cohorts = out.cohorts.map((c: Record<string, unknown>) => ({ ...c, device: noTtl(c.device) }));
  return out;
}

/** 12 hex digits of SHA-256 over the load-shaping part of the resolved scenario. */
export function scenarioHash(r: Results): string {
  return createHash('sha256')
    .update(canonical(loadShaping(r)))
    .digest('hex')
    .slice(0, 12);
}

/** Which load-shaping fields differ, for a hash mismatch. */
function loadFieldsThatDiffer(a: Results, b: Results): string[] {
  const sa = loadShaping(a);
  const sb = loadShaping(b);
  return LOAD_FIELDS.filter((f) => canonical(sa[f]) !== canonical(sb[f]));
}

/**
 * Why two runs are not runs of the same scenario (refused without --allow-different-scenarios); empty when they are.
 */
export function scenarioDifferences(base: Results, cand: Results): string[] {
  const out: string[] = [];
  const a = base.scenario;
  const b = cand.scenario;
  if (a.name !== b.name) out.push(`scenario name differs: ${JSON.stringify(a.name)} vs ${JSON.stringify(b.name)}`);
  if (a.devices !== b.devices) out.push(`device count differs: ${a.devices} vs ${b.devices}`);
  if (canonical(a.waves) !== canonical(b.waves)) {
    const describe = (s: Results['scenario']): string => s.waves.map((w) => `${w.name}: ${describeWave(w)}`).join('; ');
    out.push(`waves differ: ${describe(a)} vs ${describe(b)}`);
  }
  return out;
}

/** The embedded target's resolved options, or null for an outside target. */
export function embeddedOptions(r: Results, path: string): ResolvedTargetOptions | null {
  if (!r.run.embeddedTarget) return null;
  try {
    return parseTargetOptions(r.scenario.embeddedTarget ?? {}, `${path}: scenario.embeddedTarget`);
  } catch (err) {
    if (err instanceof HerdError) throw new HerdError('E_RESULTS_FILE', err.message, err.details);
    throw err;
  }
}

/** Knobs that cannot change the numbers: where it listens. */
const IGNORED_KNOBS = new Set(['profile', 'host', 'port', 'fixedPorts']);

function knob(v: unknown): string {
  if (v === null) return 'none';
  if (Array.isArray(v)) return v.length === 0 ? 'none' : canonical(v);
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} ${knob(x)}`)
      .join(', ');
  }
  return String(v);
}

/** One value per side: the runs' values joined when the runs of a side disagree among themselves. */
function sideValue(runs: readonly Results[], read: (r: Results) => string): string {
  return [...new Set(runs.map(read))].join(' | ');
}

function targetText(r: Results): string {
  if (!r.run.embeddedTarget) return r.run.target;
  const profile = (r.scenario.embeddedTarget?.profile as string | undefined) ?? 'default';
  return `embedded, profile ${profile}`;
}

/** Every configuration item of the two sides; differing ones first, in the order of importance. */
export function configurationDiff(
  base: readonly Results[],
  cand: readonly Results[],
  basePaths: readonly string[],
  candPaths: readonly string[],
): ConfigItem[] {
  const items: ConfigItem[] = [];
  const add = (field: string, read: (r: Results) => string): void => {
    const b = sideValue(base, read);
    const c = sideValue(cand, read);
    items.push({ field, base: b, candidate: c, same: b === c });
  };
  const b0 = base[0] as Results;
  const c0 = cand[0] as Results;
  add('scenario', (r) => `${r.scenario.name} #${scenarioHash(r)}`);
  const differing = loadFieldsThatDiffer(b0, c0);
  if (differing.length > 0)
    items.push({
      field: 'scenario fields that differ',
      base: differing.join(', '),
      candidate: differing.join(', '),
      same: false,
    });
  add('target', targetText);
  const bo = base.map((r, i) => embeddedOptions(r, basePaths[i] ?? 'base'));
  const co = cand.map((r, i) => embeddedOptions(r, candPaths[i] ?? 'candidate'));
  const knobs = new Set([...bo, ...co].flatMap((o) => (o === null ? [] : Object.keys(o))));
  for (const k of [...knobs].filter((x) => !IGNORED_KNOBS.has(x))) {
    const read = (opts: (ResolvedTargetOptions | null)[]): string =>
      [
        ...new Set(opts.map((o) => (o === null ? '–' : knob((o as unknown as Record<string, unknown>)[k] ?? null)))),
      ].join(' | ');
    const b = read(bo);
    const c = read(co);
    items.push({ field: `target.${k}`, base: b, candidate: c, same: b === c });
  }
  add('herd version', (r) => r.tool.version);
  add('connect path', (r) =>
    r.run.engines == null
      ? 'not recorded'
      : Object.entries(r.run.engines)
          .map(([cohort, e]) => `${cohort} ${e}`)
          .join(', '),
  );
  add('warm-up', (r) => (r.run.warmUp == null ? 'not recorded' : r.run.warmUp ? 'on' : 'off (--no-warm-up)'));
  add('workers', (r) => String(r.run.workers));
  add('cores', (r) => `${r.environment.cpus} × ${r.environment.cpuModel}`);
  add('seed', (r) => String(r.scenario.seed));
  add('devices', (r) => String(r.scenario.devices));
  add('scale', (r) => String(r.scenario.scale));
  add('node', (r) => r.environment.node);
  add('shard', (r) => (r.run.shard == null ? 'whole run' : `${r.run.shard.index}/${r.run.shard.count}`));
  return [...items.filter((i) => !i.same), ...items.filter((i) => i.same)];
}
