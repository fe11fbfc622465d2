/**
 * Loads a scenario file (YAML or JSON), validates it in one pass against the schema and the
 * threshold grammar, and reports every problem with its path. Never throws anything but HerdError.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { HerdError } from '../errors.js';
import { parseThresholds, type Threshold } from '../thresholds/parse.js';
import { METRICS } from '../thresholds/metrics.js';
import { resolveScenario, type Overrides, type ResolvedScenario } from './resolve.js';
import { scenarioSchema, type Scenario } from './schema.js';
import { checkTextNesting, checkValueNesting, isStackOverflow, nestingError } from './nesting.js';
import { fieldNamesAt } from './field-names.js';
import { didYouMean } from '../util/suggest.js';
import { applyUrlCredentials } from './url-credentials.js';
import { scenarioWarnings } from './warnings.js';
import { scenarioFileProblems } from './files.js';

export interface LoadedScenario {
  path: string;
  scenario: Scenario;
  resolved: ResolvedScenario;
  thresholds: Threshold[];
  /** Things that are valid but will not do what the user probably wants (printed, never fatal). */
  warnings: string[];
}

/** Largest scenario file accepted; a scenario is a page of text, not a data set. */
const MAX_BYTES = 1024 * 1024;

export function readScenarioText(path: string): string {
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_BYTES) throw new HerdError('E_SCENARIO_FILE', `${path}: scenario file is larger than 1 MiB`);
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof HerdError) throw err;
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    throw new HerdError('E_SCENARIO_FILE', `${path}: cannot read the scenario file (${why})`);
  }
  return text;
}

/** Parses YAML (a superset of JSON) with one clear message for syntax errors. */
export function parseScenarioText(text: string, path: string): unknown {
  checkTextNesting(text, path);
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    // Nesting the text scan cannot see (inside a form it does not model) still ends here, named.
    if (err instanceof Error && isStackOverflow(err.message)) throw nestingError(path);
    throw err;
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    if (isStackOverflow(e?.message ?? '')) throw nestingError(path);
    const where = e?.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new HerdError('E_SCENARIO_PARSE', `${path}: not valid YAML or JSON${where}: ${e?.message.split('\n')[0] ?? 'parse error'}`);
  }
  try {
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    checkValueNesting(value, path);
    return value;
  } catch (err) {
    if (err instanceof HerdError) throw err;
    if (err instanceof Error && isStackOverflow(err.message)) throw nestingError(path);
    // Alias bombs ("billion laughs") and unresolved aliases end here, never as a crash.
    throw new HerdError('E_SCENARIO_PARSE', `${path}: not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(top level)' : out;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  return issues.map((raw) => {
    const i = { ...raw, path: [...prefix, ...raw.path] } as z.core.$ZodIssue;
    if (i.code === 'invalid_union' && i.errors.length > 0) {
      // Report the branch the input was meant for: the one that got past the type check. A branch
      // that failed only on the value itself (a literal) was not "meant": the union's message says it.
      const wrongAtRoot = (x: z.core.$ZodIssue): boolean => x.path.length === 0 && (x.code === 'invalid_type' || x.code === 'invalid_value');
      const branch = i.errors.find((b) => b.length > 0 && !b.some(wrongAtRoot));
      if (branch) return formatIssues(branch, i.path).join('\n');
    }
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => `${formatPath([...i.path, k])}: unknown field${didYouMean(k, fieldNamesAt(i.path))}`).join('\n');
    }
    if (i.code === 'invalid_type' && i.input === undefined) return `${formatPath(i.path)}: required`;
    return `${formatPath(i.path)}: ${i.message}`;
  }).flatMap((s) => s.split('\n'));
}

export function validateScenario(data: unknown, path: string, overrides: Overrides = {}): LoadedScenario {
  const proto = typeof data === 'object' && data !== null ? Object.getPrototypeOf(data) : undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data) || (proto !== Object.prototype && proto !== null)) {
    throw new HerdError('E_SCENARIO_INVALID', `${path}: expected a mapping of scenario fields at the top level`);
  }
  const parsed = scenarioSchema.safeParse(data, { reportInput: true });
  const problems: string[] = parsed.success ? [] : formatIssues(parsed.error.issues);
  const raw = (data as { thresholds?: unknown }).thresholds;
  // Keys such as "__proto__" do not survive into a parsed record: check the raw object's own keys.
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const key of Object.keys(raw)) {
      if (key === '__proto__' && !Object.hasOwn(METRICS, key)) {
        problems.push(`thresholds.${key}: unknown metric${didYouMean(key, Object.keys(METRICS))}`);
      }
    }
  }
  let thresholds: Threshold[] = [];
  if (parsed.success && parsed.data.thresholds) {
    const spec = Object.fromEntries(Object.entries(parsed.data.thresholds).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
    const t = parseThresholds(spec);
    thresholds = t.thresholds;
    problems.push(...t.problems);
  } else if (!parsed.success && raw && typeof raw === 'object') {
    // Still check threshold expressions so every problem is reported at once.
    const spec = Object.fromEntries(
      Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string')]),
    );
    problems.push(...parseThresholds(spec).problems);
  }
  if (!parsed.success || problems.length > 0) {
    throw new HerdError('E_SCENARIO_INVALID', `${path}: the scenario has ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems);
  }
  if (parsed.success) checkFleetNotEmpty(parsed.data.devices, overrides);
  let resolved: ResolvedScenario;
  const warnings: string[] = [];
  try {
    const withCreds = applyUrlCredentials(resolveScenario(parsed.data, overrides));
    resolved = withCreds.scenario;
    warnings.push(...withCreds.warnings, ...scenarioWarnings(resolved));
    const missing = scenarioFileProblems(resolved, parsed.data.cohorts !== undefined);
    if (missing.length > 0) throw new HerdError('E_SCENARIO_INVALID', 'files', missing);
  } catch (err) {
    if (err instanceof HerdError && err.details.length === 0) throw err;
    if (err instanceof HerdError) throw new HerdError(err.code, `${path}: the scenario has ${err.details.length} problem${err.details.length === 1 ? '' : 's'}`, err.details);
    throw err;
  }
  return { path, scenario: parsed.data, resolved, thresholds, warnings };
}

export function loadScenario(path: string, overrides: Overrides = {}): LoadedScenario {
  return validateScenario(parseScenarioText(readScenarioText(path), path), path, overrides);
}

/** A --scale (or --devices) that rounds the fleet down to nothing is a bad flag, not an empty run. */
function checkFleetNotEmpty(scenarioDevices: number, o: Overrides): void {
  const base = o.devices ?? scenarioDevices;
  const scale = o.scale ?? 1;
  if (Math.round(base * scale) >= 1) return;
  const minScale = Math.ceil((0.5 / base) * 1e6) / 1e6;
  throw new HerdError('E_FLAG', `--scale ${scale}: ${base} devices × ${scale} rounds to 0 devices; expected a scale of at least ${minScale}`);
}
