/**
 * Keeps the reference documentation true: every scenario field of the generated
 * JSON Schema is in docs/scenario-reference.md with the default the code uses, every metric is in
 * docs/metrics.md, every error code in docs/errors.md, and every decision record exists.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, parseDocument } from 'yaml';
import { HerdError, type HerdErrorCode } from '../../src/errors.js';
import { LATENCY_KEYS } from '../../src/metrics/names.js';
import { resultsJsonSchema } from '../../src/results/schema.js';
import { scenarioJsonSchema } from '../../src/scenario/json-schema.js';
import { BOUNDS } from '../../src/scenario/schema.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { TARGET_DEFAULTS, TARGET_PROFILES } from '../../src/target/options.js';
import type { CompareFacts } from '../../src/scenario/metric-def.js';
import { COMPARE_ONLY, METRICS } from '../../src/scenario/threshold-metrics.js';
import { OUTAGE_MODES } from '../../src/results/resolved-scenario.js';
import { TARGET_OUTAGE_MODES } from '../../src/scenario/target-options.js';
import { ROOT } from '../helpers/cli.js';
import { herdInProcess } from '../helpers/in-process.js';

const doc = (name: string): string => readFileSync(join(ROOT, 'docs', name), 'utf8');
const src = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

// ---- the scenario schema, walked ----

type Json = Record<string, unknown>;

interface FieldInfo {
  /** As written in the reference: `device.keepalive`, `waves[] (type=ramp).over`, `reconnect.policy`. */
  path: string;
  /** The same field without its branch, e.g. `waves[].name` for `waves[] (type=ramp).name`. */
  generic: string | null;
  hasDefault: boolean;
  default: unknown;
  required: boolean;
  node: Json;
}

/** The property that tells the branches of a oneOf/anyOf apart: required and a `const`. */
function discriminator(branch: Json): [string, unknown] | null {
  const props = branch.properties as Record<string, Json> | undefined;
  const required = (branch.required as string[] | undefined) ?? [];
  if (!props) return null;
  for (const k of required) {
    const p = props[k];
    if (p && 'const' in p) return [k, p.const];
  }
  return null;
}

function walk(node: Json, base: string, out: FieldInfo[]): void {
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = node[key] as Json[] | undefined;
    for (const b of branches ?? []) {
      const d = discriminator(b);
      if (d === null) walk(b, base, out);
      else walkProps(b, base, out, d);
    }
  }
  if (node.items && typeof node.items === 'object') walk(node.items as Json, `${base}[]`, out);
  walkProps(node, base, out, null);
}

function walkProps(node: Json, base: string, out: FieldInfo[], branch: [string, unknown] | null): void {
  const props = node.properties as Record<string, Json> | undefined;
  if (!props) return;
  const required = new Set((node.required as string[] | undefined) ?? []);
  const join2 = (b: string, k: string): string => (b === '' ? k : `${b}.${k}`);
  for (const [k, v] of Object.entries(props)) {
    let path: string;
    let generic: string | null = null;
    if (branch === null || k === branch[0]) path = join2(base, k);
    else {
      path = `${base} (${branch[0]}=${String(branch[1])}).${k}`;
      generic = join2(base, k);
    }
    out.push({ path, generic, hasDefault: 'default' in v, default: v.default, required: required.has(k), node: v });
    const childBase = path;
    // Children of a branch field keep the branch in their path.
    if (branch === null || k === branch[0]) walk(v, childBase, out);
    else walk(v, childBase, out);
  }
}

function scenarioFields(): FieldInfo[] {
  const out: FieldInfo[] = [];
  walk(scenarioJsonSchema(), '', out);
  return out;
}

/** Cohort device and reconnect fields are the same fields as the scenario-wide ones. */
function alias(path: string): string {
  return path.replace(/^cohorts\[\]\.device\./, 'device.').replace(/^cohorts\[\]\.reconnect(?=[ .])/, 'reconnect');
}

// ---- the reference, read ----

interface DocRow {
  path: string;
  cells: string[];
  line: number;
}

/** Rows of every table whose header starts with `header` (e.g. "field | type | default"). */
function tableRows(text: string, header: string): DocRow[] {
  const rows: DocRow[] = [];
  let inTable = false;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line.startsWith('|')) {
      inTable = false;
      return;
    }
    const cells = line
      .slice(1, line.endsWith('|') ? -1 : undefined)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    if (cells.join(' | ').startsWith(header)) {
      inTable = true;
      return;
    }
    if (!inTable || /^-+$/.test(cells[0]?.replace(/:/g, '') ?? '')) return;
    const m = /^`([^`]+)`/.exec(cells[0] ?? '');
    if (m) rows.push({ path: m[1] as string, cells, line: i + 1 });
  });
  return rows;
}

/** The literal a default cell starts with (`60s` → "60s"), parsed as YAML; undefined for prose. */
function literal(cell: string): { value: unknown } | undefined {
  const m = /^`([^`]*)`/.exec(cell);
  return m ? { value: parseYaml(m[1] as string) as unknown } : undefined;
}

const EACH_FIELD = "each field's default";

/** Defaults that live in code outside the schema: resolved values the reference also states. */
function codeDefaults(): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const [k, v] of Object.entries(TARGET_DEFAULTS)) m.set(`target.embedded.${k}`, v);
  const { resolved } = validateScenario({ name: 'x', devices: 1, waves: [{ type: 'spike' }] }, 't');
  m.set('seed', resolved.seed);
  return m;
}

describe('docs/scenario-reference.md', () => {
  const text = doc('scenario-reference.md');
  const rows = tableRows(text, 'field | type | default | meaning');
  const byPath = new Map(rows.map((r) => [r.path, r]));
  const fields = scenarioFields();

  it('walks a schema that has every kind of field (guards the walker itself)', () => {
    const paths = new Set(fields.map((f) => f.path));
    for (const p of [
      'device.keepalive',
      'waves[] (type=ramp).over',
      'reconnect (policy=exponential).multiplier',
      'target.embedded.admission.ratePerS',
      'cohorts[].device.publish.every',
      'waves[].type',
    ]) {
      expect(paths, p).toContain(p);
    }
    expect(fields.length).toBeGreaterThan(100);
  });

  it('documents every field of the scenario schema', () => {
    const missing = fields
      .map((f) => ({ f, path: alias(f.path), generic: f.generic === null ? null : alias(f.generic) }))
      .filter(({ path, generic }) => !byPath.has(path) && (generic === null || !byPath.has(generic)))
      .map(({ f }) => f.path);
    expect([...new Set(missing)]).toEqual([]);
  });

  it('documents no field the schema does not have', () => {
    const known = new Set(
      fields.flatMap((f) => [f.path, alias(f.path), ...(f.generic === null ? [] : [alias(f.generic)])]),
    );
    expect(rows.filter((r) => !known.has(r.path)).map((r) => `line ${r.line}: ${r.path}`)).toEqual([]);
  });

  it('lists exactly the values the schema accepts for every field that is one of a list', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const f of fields) {
      const values = f.node.enum;
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) continue;
      const row = byPath.get(alias(f.path)) ?? (f.generic === null ? undefined : byPath.get(alias(f.generic)));
      if (row === undefined) continue; // reported by "documents every field"
      checked++;
      const ticked = [...(row.cells[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
      if (ticked.join(', ') !== values.join(', '))
        problems.push(`${f.path}: reference ${ticked.join(', ')}; schema ${values.join(', ')}`);
    }
    expect(checked).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });

  it('docs/transports.md offers the TLS versions a scenario accepts, no others', () => {
    const versions = fields.find((f) => f.path === 'device.tls.minVersion')?.node.enum as string[] | undefined;
    expect(versions?.length).toBeGreaterThan(0);
    const row =
      doc('transports.md')
        .split('\n')
        .find((l) => l.startsWith('| `minVersion` / `maxVersion` |')) ?? '';
    const offered = [...(row.split('|')[3] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    expect(offered).toEqual(versions);
  });

  it('writes the default the code uses, and "required" exactly for required fields', () => {
    const extra = codeDefaults();
    const problems: string[] = [];
    for (const f of fields) {
      // A cohort's device fields have no defaults of their own: they inherit the scenario's device
      // (its row, shared with device.*, documents the device default).
      if (f.path.startsWith('cohorts[].device.') && !f.hasDefault) continue;
      const row = byPath.get(alias(f.path)) ?? (f.generic === null ? undefined : byPath.get(alias(f.generic)));
      if (!row) continue; // reported by the test above
      const cell = row.cells[2] ?? '';
      const where = `${f.path} (line ${row.line})`;
      const lit = literal(cell);
      if (f.hasDefault) {
        if (cell.startsWith(EACH_FIELD)) {
          const children = Object.entries((f.node.properties ?? {}) as Record<string, Json>).filter(
            ([, v]) => 'default' in v,
          );
          const expected = Object.fromEntries(children.map(([k, v]) => [k, v.default]));
          if (JSON.stringify(f.default) !== JSON.stringify(expected))
            problems.push(`${where}: the default is not just its fields' defaults`);
        } else if (lit === undefined)
          problems.push(`${where}: the code's default ${JSON.stringify(f.default)} is not written`);
        else if (JSON.stringify(lit.value) !== JSON.stringify(f.default)) {
          problems.push(`${where}: the doc says ${JSON.stringify(lit.value)}, the schema ${JSON.stringify(f.default)}`);
        }
      } else if (lit !== undefined) {
        const p = alias(f.path);
        if (!extra.has(p))
          problems.push(`${where}: the doc writes default ${JSON.stringify(lit.value)} but the code has none`);
        else if (JSON.stringify(lit.value) !== JSON.stringify(extra.get(p))) {
          problems.push(
            `${where}: the doc says ${JSON.stringify(lit.value)}, the code ${JSON.stringify(extra.get(p))}`,
          );
        }
      }
      const saysRequired = cell.includes('**required**');
      // Cohort device fields are optional versions of device fields: only the original decides.
      if (!f.path.startsWith('cohorts[].device.') && saysRequired !== (f.required && !f.hasDefault)) {
        problems.push(
          `${where}: required is ${f.required && !f.hasDefault}, the doc ${saysRequired ? 'says required' : 'does not say required'}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it("writes each embedded target profile's knobs as the code sets them", () => {
    const profileRows = new Map(tableRows(text, 'knob | fragile | protected').map((r) => [r.path, r]));
    const problems: string[] = [];
    const knobs = new Set([...Object.keys(TARGET_PROFILES.fragile), ...Object.keys(TARGET_PROFILES.protected)]);
    expect(Object.keys(TARGET_PROFILES.default)).toEqual([]);
    for (const knob of knobs) {
      const row = profileRows.get(knob);
      if (!row) {
        problems.push(`${knob}: not in the profile table`);
        continue;
      }
      (['fragile', 'protected'] as const).forEach((p, i) => {
        const set = (TARGET_PROFILES[p] as Record<string, unknown>)[knob];
        const lit = literal(row.cells[i + 1] ?? '');
        const written = lit === undefined ? undefined : lit.value;
        if (JSON.stringify(written) !== JSON.stringify(set))
          problems.push(`${knob}/${p}: doc ${JSON.stringify(written)}, code ${JSON.stringify(set)}`);
      });
    }
    for (const r of profileRows.keys()) if (!knobs.has(r)) problems.push(`${r}: no profile sets it`);
    expect(problems).toEqual([]);
  });

  it('states the bounds the schema enforces on every, keepalive and connectTimeout', () => {
    const bounds: [string, string, string, string][] = [
      // [field, what the reference must say, a value just outside, the bound itself]
      ['device.publish.every', `at least ${BOUNDS.minEvery}`, '999us', BOUNDS.minEvery],
      ['device.requests.every', `at least ${BOUNDS.minEvery}`, '999us', BOUNDS.minEvery],
      [
        'device.keepalive',
        `at most ${BOUNDS.maxKeepaliveS}s`,
        `${BOUNDS.maxKeepaliveS + 1}s`,
        `${BOUNDS.maxKeepaliveS}s`,
      ],
      ['device.connectTimeout', `at least ${BOUNDS.minConnectTimeout}`, '9999us', BOUNDS.minConnectTimeout],
    ];
    for (const [field, says, outside, bound] of bounds) {
      expect(byPath.get(field)?.cells[1], field).toContain(says);
      const leaf = field.split('.').at(-1) as string;
      const device = (v: string): Record<string, unknown> =>
        field.includes('publish')
          ? { publish: { every: v } }
          : field.includes('requests')
            ? { requests: { every: v } }
            : { [leaf]: v };
      const at = (v: string): unknown =>
        validateScenario({ name: 'x', devices: 1, device: device(v), waves: [{ type: 'spike' }] }, 't');
      expect(() => at(bound), `${field}: ${bound}`).not.toThrow();
      expect(() => at(outside), `${field}: ${outside}`).toThrow(HerdError);
    }
  });

  it("states issue 22's input rules, each of which validate enforces", () => {
    const says: [string, Record<string, unknown>][] = [
      ['at most **24 days**', { duration: '577h' }],
      ['Whole seconds only', { device: { keepalive: '1.4s' } }],
      ['Any other placeholder', { device: { clientId: 'd-{ID}' } }],
      ['no wildcard', { device: { publish: { every: '1s', topic: 'a/+' } } }],
      ['no U+0000', { device: { clientId: 'a\u0000b' } }],
      ['an HTTP token', { device: { protocol: 'websocket', subprotocol: 'a b' } }],
      ['Needs a user name', { device: { password: 'pw' } }],
      ['all of them must be ≤ 65535', { target: { embedded: { port: 65535 } } }],
      ['whole seconds (≥ 1s)', { breakpoint: { settle: '1500ms' } }],
    ];
    for (const [phrase, change] of says) {
      expect(text, phrase).toContain(phrase);
      const at = (): unknown => validateScenario({ name: 'x', devices: 1, waves: [{ type: 'spike' }], ...change }, 't');
      expect(at, phrase).toThrow(HerdError);
    }
  });

  it('describes how a cohort device block treats the fields it leaves out as the code does', () => {
    const { resolved } = validateScenario(
      {
        name: 'x',
        devices: 2,
        device: { keepalive: '30s' },
        cohorts: [
          { name: 'a', share: 0.5, device: { connectTimeout: '1s' } },
          { name: 'b', share: 0.5 },
        ],
        waves: [{ type: 'spike' }],
      },
      't',
    );
    const inherits = resolved.cohorts[0]?.device.keepaliveUs === 30_000_000;
    expect(resolved.cohorts[1]?.device.keepaliveUs).toBe(30_000_000);
    expect(text).toContain(`<!-- cohort-device-defaults: ${inherits ? 'inherit' : 'reset'} -->`);
  });

  it('has examples that are valid YAML, and whole scenarios that validate', () => {
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks.length).toBeGreaterThan(5);
    for (const b of blocks) {
      const d = parseDocument(b, { uniqueKeys: true });
      expect(
        d.errors.map((e) => e.message),
        b,
      ).toEqual([]);
      const data = d.toJS() as Record<string, unknown> | null;
      if (data && 'name' in data && 'devices' in data && 'waves' in data)
        expect(() => validateScenario(data, 'doc')).not.toThrow();
    }
  });
});

// ---- metrics ----

describe('docs/metrics.md', () => {
  const text = doc('metrics.md');
  const thresholdRows = new Map(tableRows(text, 'metric | kind | unit').map((r) => [r.path, r]));

  it('lists every threshold metric with its kind', () => {
    const problems: string[] = [];
    for (const [name, def] of Object.entries(METRICS)) {
      const row = thresholdRows.get(name);
      if (!row) problems.push(`${name}: not in the threshold table`);
      else if (row.cells[1] !== def.kind) problems.push(`${name}: doc kind ${row.cells[1]}, code ${def.kind}`);
    }
    for (const name of thresholdRows.keys())
      if (!(name in METRICS)) problems.push(`${name}: documented but not a metric`);
    expect(problems).toEqual([]);
  });

  it('says where every latency series starts and stops', () => {
    const timerRows = new Set(tableRows(text, 'metric | starts | stops').map((r) => r.path));
    expect(LATENCY_KEYS.filter((k) => !timerRows.has(k))).toEqual([]);
  });

  it('explains every attempts, storm, outages and delivery field of results.json', () => {
    const props = resultsJsonSchema().properties as Record<string, Json>;
    const keysOf = (n: Json | undefined): string[] => {
      if (!n) return [];
      if (n.properties) return Object.keys(n.properties as Json);
      const branch = ((n.anyOf ?? n.oneOf ?? []) as Json[]).find((b) => b.properties);
      return branch ? Object.keys(branch.properties as Json) : [];
    };
    const want = [
      ...keysOf(props.attempts).map((k) => `attempts.${k}`),
      ...keysOf(props.storm).map((k) => `storm.${k}`),
      ...keysOf(props.delivery)
        .filter((k) => k !== 'byCohort')
        .map((k) => `delivery.${k}`),
      ...keysOf((props.outages as Json).items as Json).map((k) => `outages[].${k}`),
    ];
    expect(want.length).toBeGreaterThan(30);
    expect(want.filter((w) => !text.includes(`\`${w}\``))).toEqual([]);
  });

  it('states the saturation limits the code uses', async () => {
    const { DEFAULT_LIMITS } = await import('../../src/metrics/saturation.js');
    expect(text).toContain(`above ${DEFAULT_LIMITS.loopDelayP99Us / 1000} ms`);
    expect(text).toContain(`≥ ${DEFAULT_LIMITS.loopUtilisation * 100}% for ${DEFAULT_LIMITS.sustainedSeconds} seconds`);
    expect(text).toContain(`above ${DEFAULT_LIMITS.scheduleLagUs / 1e6} s`);
  });
});

// ---- the lists and the catalogue the code keeps once ----

describe('docs/reports.md', () => {
  const text = doc('reports.md');

  it('states how compare judges every share it shows, as the metric catalogue says', () => {
    const better = new Map<string, string>();
    for (const r of tableRows(text, 'metric | definition | better when')) {
      for (const m of (r.cells[0] ?? '').matchAll(/`([^`]+)`/g)) better.set(m[1] as string, r.cells[2] ?? '');
    }
    const shares: [string, CompareFacts][] = [
      ...Object.entries(METRICS).flatMap(([k, d]): [string, CompareFacts][] =>
        d.compare && d.kind !== 'duration' ? [[k, d.compare]] : [],
      ),
      ...Object.entries(COMPARE_ONLY),
    ].filter(([, f]) => f.group !== 'attempts'); // counts: context, described in prose
    expect(shares.length).toBeGreaterThan(10);
    const word = { lower: 'lower', higher: 'higher', neutral: 'shown' } as const;
    const problems: string[] = [];
    for (const [key, f] of shares) {
      const cell = better.get(key) ?? better.get(key.replace(/^errors\.[a-z]+$/, 'errors.<origin>'));
      if (cell === undefined) problems.push(`${key}: not in the compare table`);
      else if (!cell.startsWith(word[f.direction])) problems.push(`${key}: doc "${cell}", catalogue ${f.direction}`);
    }
    for (const key of better.keys()) {
      const pattern = key.includes('<') || key.startsWith('.');
      if (!pattern && METRICS[key]?.compare === undefined && COMPARE_ONLY[key] === undefined)
        problems.push(`${key}: documented, compare does not show it`);
    }
    for (const [key, d] of Object.entries(METRICS)) {
      if (d.compare?.notJudged !== undefined && d.kind === 'duration' && !text.includes(`**${key}**`))
        problems.push(`${key}: not judged, not said`);
    }
    expect(problems).toEqual([]);
  });
});

describe('outage modes', () => {
  const reference = new Map(tableRows(doc('scenario-reference.md'), 'field | type | default').map((r) => [r.path, r]));
  const ticked = (cell: string | undefined): string[] =>
    [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

  it('the scenario reference lists exactly the modes the code has, for devices and for the embedded target', () => {
    expect(ticked(reference.get('waves[] (type=outage).mode')?.cells[1])).toEqual([...OUTAGE_MODES]);
    expect(ticked(reference.get('target.embedded.outages[].mode')?.cells[1])).toEqual([...TARGET_OUTAGE_MODES]);
  });

  it('no page lists some of the device outage modes and leaves others out', () => {
    const pages = [
      'README.md',
      ...readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const partial: string[] = [];
    for (const page of pages) {
      src(page)
        .split('\n')
        .forEach((line, i) => {
          const named = OUTAGE_MODES.filter((m) => new RegExp(`\\b${m}\\b`).test(line));
          // A line naming three modes or more is a list of them; it must be whole.
          if (named.length >= 3 && named.length < OUTAGE_MODES.length)
            partial.push(`${page}:${i + 1}: ${named.join(', ')}`);
        });
    }
    expect(partial).toEqual([]);
  });
});

// ---- the README's commands against their --help ----

const COMMANDS = [
  'run',
  'breakpoint',
  'validate',
  'doctor',
  'target',
  'report',
  'compare',
  'merge',
  'export k6',
  'schema',
];
/** README rows that list every flag of their command (the others name a few). */
const COMPLETE_ROWS = ['run', 'validate', 'doctor'];

/** Each option of `herd <command> --help` as its aliases, e.g. ["-q", "--quiet"]; --help itself left out. */
async function helpOptions(command: string): Promise<string[][]> {
  const r = await herdInProcess([...command.split(' '), '--help']);
  expect(r.code, r.stderr).toBe(0);
  const options = r.stdout.split('Options:')[1]?.split(/\n\S/)[0] ?? '';
  return [...options.matchAll(/^ {2}(-[^ ,]+(?:, -[^ ,]+)?)/gm)]
    .map((m) => (m[1] as string).split(', '))
    .filter((aliases) => !aliases.includes('--help'));
}

const flagsIn = (text: string): string[] =>
  [...text.matchAll(/(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])(?![\w-])/g)].map((m) => m[1] as string);

/** Flags the README shows for each command: in its row of the commands table, and after `herd <command>`. */
function readmeFlags(readme: string): { shown: Map<string, Set<string>>; rows: Map<string, string[]> } {
  const shown = new Map(COMMANDS.map((c) => [c, new Set<string>()]));
  const rows = new Map<string, string[]>();
  for (const r of tableRows(readme, 'command | what it does')) {
    const command = COMMANDS.find((c) => r.path.startsWith(`herd ${c}`));
    if (command === undefined) continue;
    const flags = flagsIn(`${r.cells[0] ?? ''} ${r.cells[1] ?? ''}`);
    rows.set(command, flags);
    for (const f of flags) shown.get(command)?.add(f);
  }
  const alternatives = [...COMMANDS].sort((a, b) => b.length - a.length).join('|');
  for (const m of readme.matchAll(new RegExp(`herd (${alternatives})\\b([^\`\\n|]*)`, 'g'))) {
    for (const f of flagsIn(m[2] as string)) shown.get(m[1] as string)?.add(f);
  }
  return { shown, rows };
}

describe('README commands', () => {
  it("shows only flags a command's --help has, and lists every flag where its row lists them", async () => {
    const { shown, rows } = readmeFlags(src('README.md'));
    expect(rows.size).toBe(COMMANDS.length);
    const problems: string[] = [];
    for (const command of COMMANDS) {
      const options = await helpOptions(command);
      const known = new Set(options.flat());
      for (const f of shown.get(command) ?? [])
        if (!known.has(f)) problems.push(`herd ${command}: README shows ${f}, --help has no such flag`);
      if (!COMPLETE_ROWS.includes(command)) continue;
      const row = new Set(rows.get(command));
      for (const aliases of options)
        if (!aliases.some((a) => row.has(a)))
          problems.push(`herd ${command}: ${aliases.join(', ')} missing from the README row`);
    }
    expect(problems).toEqual([]);
  });
});

// ---- errors ----

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Failure codes written in the code: literals, prefixes of built codes, errno sets. */
function failureCodes(): string[] {
  const codes = new Set<string>();
  const files = [...tsFiles('src/protocols'), ...tsFiles('src/engine')];
  for (const f of files) {
    const t = src(f);
    for (const m of t.matchAll(/code: '([A-Z][A-Z0-9_]*)'/g)) codes.add(m[1] as string);
    for (const m of t.matchAll(/violate\('([A-Z][A-Z0-9_]*)'/g)) codes.add(m[1] as string);
    for (const m of t.matchAll(/code: `([A-Z][A-Z0-9_]*_)\$\{/g)) codes.add(m[1] as string);
    for (const m of t.matchAll(/startsWith\('([A-Z][A-Z0-9_]*)'\)/g)) codes.add(m[1] as string);
  }
  const classify = src('src/protocols/classify.ts');
  for (const m of classify.matchAll(/'(E[A-Z_]{3,}|[A-Z]+_[A-Z0-9_]+)'/g)) codes.add(m[1] as string);
  const frames = src('src/protocols/mqtt/frames.ts');
  for (const m of /type FrameError = ([^;]+);/.exec(frames)?.[1]?.matchAll(/'([A-Z_]+)'/g) ?? [])
    codes.add(m[1] as string);
  const base = src('src/protocols/device-base.ts');
  const closedIn = /const CLOSED_IN[^{]*\{([^}]*)\}/.exec(base)?.[1] ?? '';
  for (const m of closedIn.matchAll(/'([A-Z_]+)'/g)) codes.add(m[1] as string);
  // Codes built from a prefix (`CONNACK_${…}`) and prefixes tested with startsWith are documented as prefixes.
  return [...codes].filter((c) => !c.startsWith('E_'));
}

describe('docs/errors.md', () => {
  const text = doc('errors.md');

  it('lists every HerdErrorCode with its exit code', () => {
    const union = /export type HerdErrorCode =([\s\S]*?);/.exec(src('src/errors.ts'))?.[1] ?? '';
    const codes = [...union.matchAll(/'(E_[A-Z_]+)'/g)].map((m) => m[1] as HerdErrorCode);
    expect(codes.length).toBeGreaterThan(10);
    const rows = new Map(tableRows(text, 'code | exit | when').map((r) => [r.path, r]));
    const problems: string[] = [];
    for (const c of codes) {
      const row = rows.get(c);
      const exit = new HerdError(c, 'x').exitCode;
      if (!row) problems.push(`${c}: not documented`);
      else if (row.cells[1] !== String(exit)) problems.push(`${c}: doc exit ${row.cells[1]}, code ${exit}`);
      else if (!/`[^`]+`/.test(row.cells[3] ?? '')) problems.push(`${c}: no example message`);
    }
    for (const c of rows.keys())
      if (!codes.includes(c as HerdErrorCode)) problems.push(`${c}: documented but not a HerdErrorCode`);
    expect(problems).toEqual([]);
  });

  it('documents every failure code the protocols and the engine report', () => {
    const codes = failureCodes();
    for (const c of [
      'CONNECT_TIMEOUT',
      'KEEPALIVE_TIMEOUT',
      'CLOSED_BEFORE_CONNACK',
      'PEER_CLOSED',
      'CONNACK_',
      'WS_HTTP_',
      'MQTT_PACKET_TOO_LARGE',
      'EMFILE',
      'CLOSED',
    ]) {
      expect(codes, c).toContain(c);
    }
    expect(codes.filter((c) => !new RegExp(`\`${c}`).test(text))).toEqual([]);
  });

  it('lists every CONNACK code herd names, and every local code with its advice', async () => {
    const { CONNACK_NAMES, DISCONNECT_NAMES, LOAD_SHEDDING_CODES } = await import('../../src/protocols/classify.js');
    const { LOCAL_ADVICE } = await import('../../src/metrics/local-advice.js');
    const hex = (n: number): string => n.toString(16).padStart(2, '0').toUpperCase();
    const flat = text.replace(/\s+/g, ' ');
    for (const [n, name] of Object.entries(CONNACK_NAMES))
      expect(flat).toContain(`\`CONNACK_${hex(Number(n))}\` ${name}`);
    for (const [n, name] of Object.entries(DISCONNECT_NAMES))
      if (Number(n) !== 0) expect(flat).toContain(`\`${hex(Number(n))}\` ${name}`);
    for (const n of LOAD_SHEDDING_CODES) {
      expect(text).toContain(`\`CONNACK_${hex(n)}\``);
      expect(text).toContain(`\`DISCONNECT_${hex(n)}\``);
    }
    const localRows = new Map(tableRows(text, 'code | advice').map((r) => [r.path, r]));
    for (const code of Object.keys(LOCAL_ADVICE)) expect(localRows.has(code), code).toBe(true);
  });
});

// ---- decision records ----

describe('docs/adr', () => {
  it('has the decision records, each with context, decision and consequences', () => {
    const files = readdirSync(join(ROOT, 'docs/adr'))
      .filter((f) => /^\d{4}-.*\.md$/.test(f))
      .sort();
    expect(files).toEqual([
      '0001-lean-raw-socket-client.md',
      '0002-open-model-absolute-plan.md',
      '0003-child-process-workers.md',
      '0004-results-json-single-source.md',
      '0005-embedded-target-mqtt5.md',
      '0006-native-storm-core.md',
      '0007-reachability-and-url-credentials.md',
      '0008-breakpoint-search.md',
    ]);
    for (const f of files) {
      const t = doc(`adr/${f}`);
      for (const h of ['## Context', '## Decision', '## Consequences']) expect(t, `${f}: ${h}`).toContain(h);
    }
  });

  it('links only to documentation files that exist', () => {
    const problems: string[] = [];
    const pages = [
      'scenario-reference.md',
      'metrics.md',
      'errors.md',
      ...readdirSync(join(ROOT, 'docs/adr')).map((f) => `adr/${f}`),
    ];
    for (const page of pages) {
      const dir = join(ROOT, 'docs', page, '..');
      for (const m of doc(page).matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)) {
        try {
          readFileSync(join(dir, m[1] as string));
        } catch {
          problems.push(`${page}: ${m[1]}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('states its facts itself: no page cites a file outside the repository', () => {
    const mdUnder = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? mdUnder(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
      );
    const pages = ['README.md', 'fixtures/tls/README.md', ...mdUnder('docs')];
    const outside = /FINDINGS\.md|MEASUREMENT\.md|STYLE\.md|DESIGN\.md|\/work\//g;
    const cited = pages.flatMap((page) => [...src(page).matchAll(outside)].map((m) => `${page}: ${m[0]}`));
    expect(cited).toEqual([]);
  });
});
