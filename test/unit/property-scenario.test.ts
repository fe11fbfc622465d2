/**
 * Property-based tests of the scenario loader (issue 9, "Bad input"): whatever text or data it is
 * given, the outcome is a LoadedScenario or a HerdError with exit code 2 whose message starts with
 * the file path and whose details each start with a field path — never another exception, never a
 * hang. Every property is bounded in runs and in time.
 */
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HerdError } from '../../src/errors.js';
import { loadScenario, parseScenarioText } from '../../src/scenario/load.js';
import { validateScenario, type LoadedScenario } from '../../src/scenario/validate.js';
import { deviceSchema } from '../../src/scenario/device-schema.js';
import { scenarioSchema } from '../../src/scenario/schema.js';
import { ROOT } from '../helpers/cli.js';

const FILE = 'prop.yaml';
const RUNS = 200;
const TIME_MS = 30_000;

const SCENARIO_DIR = join(ROOT, 'scenarios');
const SCENARIO_FILES = readdirSync(SCENARIO_DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const TOP_KEYS = Object.keys(scenarioSchema.shape);
const DEVICE_KEYS = Object.keys(deviceSchema.shape);
const WAVE_KEYS = [
  'type',
  'name',
  'at',
  'devices',
  'over',
  'steps',
  'every',
  'rate',
  'arrival',
  'share',
  'cohort',
  'mode',
  'offline',
  'perMinute',
];

type Outcome = { ok: true; loaded: LoadedScenario } | { ok: false; error: HerdError };

/** Runs text through the loader and turns any non-HerdError into a failure that says what it was. */
function loadText(text: string): Outcome {
  try {
    return { ok: true, loaded: validateScenario(parseScenarioText(text, FILE), FILE) };
  } catch (err) {
    return { ok: false, error: asHerdError(err) };
  }
}

function loadData(data: unknown): Outcome {
  try {
    return { ok: true, loaded: validateScenario(data, FILE) };
  } catch (err) {
    return { ok: false, error: asHerdError(err) };
  }
}

function asHerdError(err: unknown): HerdError {
  if (err instanceof HerdError) return err;
  const e = err as Error;
  throw new Error(`the loader threw ${e?.name ?? typeof err} instead of a HerdError: ${e?.message ?? String(err)}`);
}

/** A detail names a field: its first path segment is a schema field, a key the input had, or "(top level)". */
function startsWithFieldPath(detail: string, inputKeys: readonly string[]): boolean {
  if (detail.startsWith('(top level)')) return true;
  if (inputKeys.some((k) => detail.startsWith(`[${JSON.stringify(k)}]`))) return true; // a key with a line break, quoted
  return [...TOP_KEYS, ...inputKeys].some(
    (k) => detail.startsWith(`${k}:`) || detail.startsWith(`${k}.`) || detail.startsWith(`${k}[`),
  );
}

function inputKeysOf(data: unknown): string[] {
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? Object.keys(data) : [];
}

/** The contract every outcome must keep. `data` is what the text parsed to, when known. */
function checkOutcome(o: Outcome, data?: unknown): void {
  if (o.ok) {
    // A valid scenario is fully resolved: devices, waves and µs durations a planner can use.
    const r = o.loaded.resolved;
    expect(Number.isSafeInteger(r.devices) && r.devices > 0).toBe(true);
    expect(r.waves.length).toBeGreaterThan(0);
    expect(Number.isSafeInteger(r.durationUs), `durationUs ${r.durationUs} is not a safe integer of µs`).toBe(true);
    return;
  }
  const e = o.error;
  expect(e.exitCode, `${e.code}: ${e.message}`).toBe(2);
  expect(e.message.startsWith(`${FILE}:`), e.message).toBe(true);
  expect(e.message).not.toMatch(/undefined|\[object Object\]/);
  const keys = inputKeysOf(data);
  for (const d of e.details)
    expect(startsWithFieldPath(d, keys), `detail without a field path: ${JSON.stringify(d)}`).toBe(true);
}

/** Parses text only so that checkOutcome knows the input's own keys (for unknown-field details). */
function dataOf(text: string): unknown {
  try {
    return parseScenarioText(text, FILE);
  } catch {
    return undefined;
  }
}

function checkText(text: string): Outcome {
  const o = loadText(text);
  checkOutcome(o, o.ok ? undefined : dataOf(text));
  return o;
}

// A richer valid scenario than any single bundled file: every field kind (durations, shares,
// counts, unions, records, nested objects, lists) appears at least once.
const RICH = {
  version: 1,
  name: 'rich',
  description: 'every kind of field',
  target: 'embedded',
  seed: 7,
  devices: 100,
  device: {
    protocol: 'mqtt',
    mqttVersion: 5,
    clientId: 'dev-{id}',
    username: 'u-{id}',
    password: 'p',
    keepalive: '30s',
    cleanSession: false,
    connectTimeout: '5s',
    sessionExpiry: '60s',
    publish: { every: '1s', qos: 1, topic: 't/{id}', payloadBytes: 64, echo: true, stopBeforeEnd: '1s' },
  },
  reconnect: { policy: 'exponential', initial: '100ms', multiplier: 2, max: '5s', jitter: 'full', maxAttempts: 5 },
  cohorts: [
    { name: 'a', share: 0.5, device: { keepalive: '10s' }, reconnect: { policy: 'fixed', delay: '1s' } },
    { name: 'b', share: '50%' },
  ],
  waves: [
    { type: 'ramp', name: 'up', devices: 40, over: '2s' },
    { type: 'spike', devices: 20 },
    { type: 'steps', devices: 20, steps: 2, every: '1s' },
    { type: 'rate', rate: 10, over: '2s', arrival: 'poisson' },
    { type: 'outage', at: '3s', share: 0.25, cohort: 'a', mode: 'reset', offline: '1s' },
    { type: 'churn', at: '4s', over: '2s', perMinute: 0.1 },
  ],
  hold: '1s',
  duration: '20s',
  thresholds: { 'connect.total': ['p(99) < 2s', 'avg < 1s'], 'errors.rate': '< 1%', 'attempts.dropped': '== 0' },
};

/** Every path (to objects, lists and leaves) inside a value. */
function allPaths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...allPaths(x, [...prefix, i])));
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) out.push(...allPaths(x, [...prefix, k]));
  return out;
}

function setAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cur = copy;
  for (const seg of path.slice(0, -1)) cur = cur[seg] as Record<string | number, unknown>;
  cur[path[path.length - 1] as string | number] = value;
  return copy;
}

// Values of every JSON/YAML type, including numbers at and beyond the edges of doubles and integers.
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 1,
  -(2 ** 53 + 1),
  Number.NaN,
  Infinity,
  -Infinity,
  '',
  ' ',
  'x',
  '30',
  '-5s',
  '1e400h',
  '∞',
  'ünïcødé 名前 🐄',
  '\u0000',
  [],
  [null],
  {},
  { a: 1 },
  [[[[[]]]]],
];
const hostileValue = fc.oneof(fc.constantFrom(...HOSTILE_VALUES), fc.jsonValue({ maxDepth: 3 }));

describe('scenario loader: arbitrary input', () => {
  it('arbitrary unicode text is a scenario or an exit-2 HerdError', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (t) => void checkText(t)),
      { numRuns: RUNS },
    );
  });

  // Text built from YAML's own punctuation reaches far more parser states than random characters.
  const yamlToken = fc.constantFrom(
    'a',
    'name',
    'devices',
    'waves',
    ':',
    ': ',
    ' ',
    '  ',
    '\n',
    '\n  ',
    '- ',
    '[',
    ']',
    '{',
    '}',
    ',',
    '&a ',
    '*a',
    '&b ',
    '*b',
    '!!str ',
    '!!int ',
    '!!binary ',
    '!!set ',
    '!!map ',
    '!!omap ',
    '!foo ',
    '"',
    "'",
    '#',
    '? ',
    '|',
    '>',
    '%YAML 1.2\n',
    '---\n',
    '...\n',
    '@',
    '`',
    '0',
    '1',
    '-1',
    '1.5',
    '1e308',
    '.nan',
    '.inf',
    '-.inf',
    '0x1F',
    '0o17',
    'null',
    '~',
    'true',
    '\t',
    '<<: ',
    '\\',
    '\u00e9',
    '🐄',
    '\r\n',
  );
  it('a key with a line break is one quoted problem line, not two', () => {
    const o = checkText('? ...\n\n  a');
    expect(o.ok).toBe(false);
    if (!o.ok) expect(o.error.details).toContain('["...\\na"]: unknown field');
  });
  it('YAML-shaped token soup is a scenario or an exit-2 HerdError', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(
        fc.array(yamlToken, { maxLength: 80 }).map((a) => a.join('')),
        (t) => void checkText(t),
      ),
      { numRuns: RUNS },
    );
  });

  it('arbitrary JSON text is a scenario or an exit-2 HerdError', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => void checkText(JSON.stringify(v))),
      { numRuns: RUNS },
    );
  });

  it('arbitrary values given to validateScenario directly', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 4 }), (v) => checkOutcome(loadData(v), v)),
      { numRuns: RUNS },
    );
  });
});

describe('scenario loader: truncated files', () => {
  for (const f of SCENARIO_FILES) {
    it(`every prefix of scenarios/${f}`, { timeout: TIME_MS }, () => {
      const text = readFileSync(join(SCENARIO_DIR, f), 'utf8');
      expect(loadText(text).ok, `${f} itself must load`).toBe(true);
      for (let cut = 0; cut < text.length; cut++) {
        const o = loadText(text.slice(0, cut));
        checkOutcome(o, o.ok ? undefined : dataOf(text.slice(0, cut)));
      }
    });
  }
});

describe('scenario loader: wrong types and edge values at every field', () => {
  for (const [label, base] of [
    ['rich scenario', RICH],
    ...SCENARIO_FILES.map((f) => [f, parseScenarioText(readFileSync(join(SCENARIO_DIR, f), 'utf8'), f)] as const),
  ] as const) {
    it(`${label}: any field replaced by a hostile value, through YAML text`, { timeout: TIME_MS }, () => {
      expect(loadData(base).ok, `${label} must be valid before mutation`).toBe(true);
      const paths = allPaths(base);
      fc.assert(
        fc.property(fc.constantFrom(...paths), hostileValue, (path, value) => {
          const mutated = setAt(base, path, value);
          // Through YAML text so NaN/Infinity arrive as .nan/.inf, as a user would write them.
          const text = stringify(mutated);
          checkText(text);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('every field of the rich scenario replaced in turn by each edge number is handled', { timeout: TIME_MS }, () => {
    const paths = allPaths(RICH);
    for (const path of paths) {
      for (const value of [1e308, 2 ** 53 + 1, -0, Number.NaN, Infinity, -Infinity, -1, 0]) {
        const text = stringify(setAt(RICH, path, value));
        checkText(text);
      }
    }
  });

  it(
    'removing any field of the rich scenario is handled, and a missing required field is named',
    { timeout: TIME_MS },
    () => {
      for (const path of allPaths(RICH)) {
        const copy = structuredClone(RICH) as Record<string | number, unknown>;
        let cur = copy;
        for (const seg of path.slice(0, -1)) cur = cur[seg] as Record<string | number, unknown>;
        const last = path[path.length - 1] as string | number;
        if (Array.isArray(cur)) cur.splice(last as number, 1);
        else delete cur[last];
        const o = loadData(copy);
        checkOutcome(o, copy);
        if (path.length === 1 && ['name', 'devices', 'waves'].includes(String(last))) {
          expect(o.ok).toBe(false);
          if (!o.ok) expect(o.error.details).toContain(`${String(last)}: required`);
        }
      }
    },
  );

  it('a number too large for integer µs in a duration is rejected with its path, not resolved to an imprecise run length', () => {
    // 1e15 h is ~3.6e24 µs: past Number.MAX_SAFE_INTEGER, so every derived time would be off.
    const o = loadData({ ...structuredClone(RICH), duration: '1000000000000000h' });
    checkOutcome(o, RICH);
    expect(o.ok).toBe(false);
    if (!o.ok) expect(o.error.details.some((d) => d.startsWith('duration'))).toBe(true);
  });
});

describe('scenario loader: unknown fields', () => {
  const knownAnywhere = new Set([...TOP_KEYS, ...DEVICE_KEYS, ...WAVE_KEYS]);
  const unknownKey = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((k) => !knownAnywhere.has(k));
  const where = fc.constantFrom<(string | number)[]>(
    [],
    ['device'],
    ['waves', 0],
    ['reconnect'],
    ['device', 'publish'],
    ['cohorts', 1],
  );

  it('an unknown key anywhere is rejected by name with its path', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(where, unknownKey, fc.jsonValue({ maxDepth: 2 }), (path, key, value) => {
        const copy = structuredClone(RICH) as Record<string | number, unknown>;
        let cur = copy;
        for (const seg of path) cur = cur[seg] as Record<string | number, unknown>;
        // defineProperty so a key like "__proto__" becomes a real own key, as YAML makes it.
        Object.defineProperty(cur, key, { value, enumerable: true, configurable: true, writable: true });
        const o = loadData(copy);
        checkOutcome(o, copy);
        expect(o.ok, `unknown key ${JSON.stringify(key)} at ${path.join('.')} was accepted`).toBe(false);
        if (!o.ok) {
          const prefix = path
            .map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`))
            .join('')
            .replace(/^\./, '');
          // A key with a line break or another control character (U+2028/2029 and DEL included) is
          // quoted as a JSON string in brackets, so one problem stays one line.
          const quoted = /[\u0000-\u001f\u007f\u2028\u2029]/.test(key);
          const segment = quoted ? `[${JSON.stringify(key)}]` : prefix === '' ? key : `.${key}`;
          const expected = `${prefix}${segment}: unknown field`;
          // A close known name may follow as "; did you mean …?".
          expect(
            o.error.details.some((d) => d === expected || d.startsWith(`${expected}; did you mean `)),
            o.error.details.join('\n'),
          ).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('an unknown threshold metric is rejected, including names of Object.prototype members', () => {
    for (const metric of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf', 'no.such.metric']) {
      const data = {
        name: 'x',
        devices: 10,
        waves: [{ type: 'ramp', over: '1s' }],
        thresholds: {} as Record<string, unknown>,
      };
      Object.defineProperty(data.thresholds, metric, {
        value: '< 1',
        enumerable: true,
        configurable: true,
        writable: true,
      });
      const o = loadData(data);
      checkOutcome(o, data);
      expect(o.ok, `threshold on unknown metric ${JSON.stringify(metric)} was accepted`).toBe(false);
      if (!o.ok) expect(o.error.details.some((d) => d.startsWith(`thresholds.${metric}`))).toBe(true);
    }
  });
});

describe('scenario loader: unicode names', () => {
  it(
    'any name of 1–200 UTF-16 units is kept exactly; longer or empty names are named as the problem',
    { timeout: TIME_MS },
    () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ unit: 'grapheme', maxLength: 250 }), fc.string({ unit: 'binary', maxLength: 250 })),
          (name) => {
            const text = stringify({ name, devices: 10, waves: [{ type: 'ramp', over: '1s' }] });
            const o = checkText(text);
            if (name.length >= 1 && name.length <= 200) {
              expect(o.ok, `name ${JSON.stringify(name)} rejected`).toBe(true);
              if (o.ok) expect(o.loaded.resolved.name).toBe(name);
            } else {
              expect(o.ok).toBe(false);
              if (!o.ok) expect(o.error.details.some((d) => d.startsWith('name:'))).toBe(true);
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
  );
});

describe('scenario loader: nesting and alias bombs', () => {
  it('deep nesting of lists and maps is an exit-2 error, quickly', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.boolean(), (depth, maps) => {
        const text = maps
          ? `name: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`
          : `name: ${'['.repeat(depth)}${']'.repeat(depth)}`;
        const o = checkText(text);
        expect(o.ok).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  it('deep nesting in block style is an exit-2 error, quickly', { timeout: TIME_MS }, () => {
    for (const depth of [10, 100, 1000, 3000]) {
      const o = checkText(`name: x\ndevices: 1\nwaves:\n${'- '.repeat(depth)}x\n`);
      expect(o.ok).toBe(false);
    }
  });

  /** "Billion laughs": each level aliases the previous one `width` times. */
  function aliasBomb(width: number, depth: number): string {
    const lines = [`l0: &l0 [${Array.from({ length: width }, () => '"lol"').join(', ')}]`];
    for (let d = 1; d <= depth; d++)
      lines.push(`l${d}: &l${d} [${Array.from({ length: width }, () => `*l${d - 1}`).join(', ')}]`);
    return lines.join('\n') + '\n';
  }

  it('a YAML alias bomb is an exit-2 HerdError, not an exception, and ends quickly', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        (width, depth, asScenario) => {
          const bomb = aliasBomb(width, depth);
          // Also after the fields of an otherwise valid scenario.
          const text = (asScenario ? 'name: x\ndevices: 1\nwaves: [{type: ramp, over: 1s}]\n' : '') + bomb;
          const started = Date.now();
          checkText(text);
          expect(Date.now() - started).toBeLessThan(5_000);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the classic ten-by-nine billion-laughs document is an exit-2 HerdError', () => {
    const o = loadText(aliasBomb(10, 9));
    checkOutcome(o);
    expect(o.ok).toBe(false);
  });

  it('an alias to an anchor that does not exist is an exit-2 parse error', () => {
    for (const text of ['name: *nope\n', 'name: x\ndevices: *n\nwaves: [{type: ramp, over: 1s}]\n', 'a: *a\n']) {
      const o = loadText(text);
      checkOutcome(o);
      expect(o.ok).toBe(false);
    }
  });

  it('YAML tags that build non-plain objects (!!binary, !!set, !!omap) at the top level are named as the wrong shape', () => {
    for (const text of ['!!binary aGVsbG8gd29ybGQ=\n', '!!set {a, b}\n', '!!omap [a: 1]\n']) {
      const o = loadText(text);
      checkOutcome(o);
      expect(o.ok).toBe(false);
      if (!o.ok) {
        // One clear problem, not a list of Buffer/Set methods reported as unknown fields.
        expect(o.error.details.length, o.error.details.slice(0, 5).join(' | ')).toBeLessThanOrEqual(3);
      }
    }
  });
});

describe('scenario loader: files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herd-prop-scenario-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function loadFile(path: string): void {
    try {
      loadScenario(path);
    } catch (err) {
      const e = asHerdError(err);
      expect(e.exitCode).toBe(2);
      expect(e.message.startsWith(`${path}:`), e.message).toBe(true);
      return;
    }
  }

  it('missing, directory, empty, oversized, binary and BOM-prefixed files', () => {
    const cases: [string, string | Buffer | null][] = [
      ['missing.yaml', null],
      ['empty.yaml', ''],
      ['blank.yaml', '\n\n   \n'],
      ['comment.yaml', '# nothing\n'],
      ['big.yaml', 'description: "' + 'x'.repeat(1024 * 1024) + '"\n'],
      ['binary.yaml', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x81, 0xc0, 0x00, 0x1b, 0x5b])],
      ['bom.yaml', '\ufeffname: x\ndevices: 1\nwaves: [{type: ramp, over: 1s}]\n'],
    ];
    for (const [name, content] of cases) {
      const p = join(dir, name);
      if (content !== null) writeFileSync(p, content);
      loadFile(p);
    }
    mkdirSync(join(dir, 'a-dir.yaml'));
    loadFile(join(dir, 'a-dir.yaml'));
  });

  it('arbitrary bytes in a file', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const p = join(dir, 'bytes.yaml');
        writeFileSync(p, bytes);
        loadFile(p);
      }),
      { numRuns: RUNS },
    );
  });
});
