/**
 * Property-based tests of the small parsers that face users directly (issue 9, "Bad input"):
 * threshold expressions, command-line flags, --source-ips, target URLs, compare tolerances and the
 * flags of `herd target`. On any string each returns a value inside its documented range or throws a
 * HerdError with exit code 2 whose message names the flag or field.
 */
import { isIPv4 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HerdError } from '../../src/errors.js';
import { parseFlagNumber, parseFlagScale, parseFlagShard, parseFlagStartAt } from '../../src/cli/flags.js';
import { targetInputFromFlags } from '../../src/cli/commands/target.js';
import { parseTolerance, parseToleranceOverrides } from '../../src/compare/tolerance.js';
import { parseTargetUrl } from '../../src/util/target-url.js';
import { parseTargetOptions } from '../../src/target/options.js';
import { METRICS } from '../../src/scenario/threshold-metrics.js';
import { parseThresholds } from '../../src/scenario/threshold-parse.js';
import { parseSourceIps } from '../../src/util/source-ips.js';

const RUNS = 200;
const TIME_MS = 30_000;

/** Calls fn; a non-HerdError exception fails the test with what it was. */
function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: HerdError } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof HerdError) return { ok: false, error: err };
    throw new Error(
      `threw ${(err as Error)?.name ?? typeof err} instead of a HerdError: ${(err as Error)?.message ?? String(err)}`,
    );
  }
}

function expectFlagError(e: HerdError, flag: string): void {
  expect(e.exitCode).toBe(2);
  expect(e.message.startsWith(`${flag}:`), e.message).toBe(true);
}

// Strings near the grammar of each flag find more edges than uniformly random text.
const numberish = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: fc.constantFrom(...'0123456789.-+e/ xX_,:%'.split('')), maxLength: 14 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-0',
    '00',
    '1e3',
    '0x10',
    '1_000',
    'Infinity',
    'NaN',
    '9007199254740993',
    '1.0',
    '١٢',
    '１２',
    '5/4',
    '0/4',
    '1/0',
    '-1/4',
  ),
);

describe('threshold parser', () => {
  const metricName = fc.oneof(fc.constantFrom(...Object.keys(METRICS)), fc.string({ maxLength: 20 }));
  const expression = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc
      .tuple(
        fc.constantFrom(
          '',
          'p(99) ',
          'p(99.9)',
          'p(101) ',
          'p(-1) ',
          'avg ',
          'min',
          'max ',
          'med ',
          'count ',
          'value ',
          'rate ',
        ),
        fc.constantFrom('<', '<=', '>', '>=', '==', '!=', '=', '=<', ''),
        fc.oneof(fc.nat().map(String), fc.double({ noNaN: true }).map(String)),
        fc.constantFrom('', 'us', 'µs', 'ms', 's', 'm', 'h', '%', 'd', 'pp'),
      )
      .map(([a, op, n, u]) => `${a}${op} ${n}${u}`),
  );

  // Prototype member names and 400-digit bounds have their own tests below.
  it(
    'never throws; every problem starts with its thresholds path; every threshold is on a real metric with a finite bound',
    { timeout: TIME_MS },
    () => {
      fc.assert(
        fc.property(fc.dictionary(metricName, fc.array(expression, { maxLength: 3 }), { maxKeys: 4 }), (spec) => {
          const r = parseThresholds(spec);
          for (const p of r.problems) {
            const ok = Object.keys(spec).some(
              (m) => p.startsWith(`thresholds.${m}:`) || p.startsWith(`thresholds.${m}[`),
            );
            expect(ok, `problem without a path: ${p}`).toBe(true);
          }
          for (const t of r.thresholds) {
            expect(
              Object.hasOwn(METRICS, t.metric),
              `threshold accepted on unknown metric ${JSON.stringify(t.metric)}`,
            ).toBe(true);
            expect(Number.isFinite(t.bound), `${t.metric}: ${JSON.stringify(t.expression)} has bound ${t.bound}`).toBe(
              true,
            );
          }
        }),
        { numRuns: RUNS },
      );
    },
  );

  it('names of Object.prototype members are unknown metrics', () => {
    for (const m of ['toString', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
      const r = parseThresholds({ [m]: ['< 1'] });
      expect(r.thresholds, `${m} accepted as a metric`).toEqual([]);
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]?.startsWith(`thresholds.${m}: unknown metric`)).toBe(true);
    }
  });

  it('a bound too large for a double is a problem, not an infinite threshold', () => {
    const r = parseThresholds({ 'connect.total': [`p(99) < ${'9'.repeat(400)}ms`] });
    expect(r.thresholds).toEqual([]);
    expect(r.problems[0]?.startsWith('thresholds.connect.total[0]:')).toBe(true);
  });

  it('an expression on a known metric is either a threshold or exactly one problem', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(METRICS)), expression, (metric, expr) => {
        const r = parseThresholds({ [metric]: [expr] });
        expect(r.thresholds.length + r.problems.length).toBe(1);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('command-line flag parsers', () => {
  it('parseFlagNumber: a whole number within [min, max] or E_FLAG naming the flag', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(numberish, fc.nat(100), fc.nat(1_000_000), (text, min, span) => {
        const max = min + span;
        const r = attempt(() => parseFlagNumber(text, '--workers', { min, max }));
        if (r.ok) {
          expect(Number.isSafeInteger(r.value) && r.value >= min && r.value <= max).toBe(true);
          expect(r.value).toBe(Number(text.trim()));
        } else expectFlagError(r.error, '--workers');
      }),
      { numRuns: RUNS },
    );
  });

  it('parseFlagNumber: every whole number in range is accepted as itself', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 256 }), (n) => {
        expect(parseFlagNumber(String(n), '--workers', { min: 1, max: 256 })).toBe(n);
      }),
      { numRuns: RUNS },
    );
  });

  it('parseFlagScale: a number in (0, 1000] or E_FLAG naming --scale', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(numberish, (text) => {
        const r = attempt(() => parseFlagScale(text));
        if (r.ok) expect(r.value > 0 && r.value <= 1000 && Number.isFinite(r.value)).toBe(true);
        else expectFlagError(r.error, '--scale');
      }),
      { numRuns: RUNS },
    );
    for (const bad of ['0', '-1', '0.0', '1001', '', 'x', 'NaN', 'Infinity'])
      expectFlagError((attempt(() => parseFlagScale(bad)) as { error: HerdError }).error, '--scale');
  });

  it('parseFlagShard: 1 ≤ I ≤ N or E_FLAG naming --shard', { timeout: TIME_MS }, () => {
    const shardish = fc.oneof(
      numberish,
      fc.tuple(fc.integer({ min: -2, max: 12 }), fc.integer({ min: -2, max: 12 })).map(([i, n]) => `${i}/${n}`),
    );
    fc.assert(
      fc.property(shardish, (text) => {
        const r = attempt(() => parseFlagShard(text));
        if (r.ok) expect(r.value.index >= 0 && r.value.index < r.value.count && r.value.count <= 10_000).toBe(true);
        else expectFlagError(r.error, '--shard');
      }),
      { numRuns: RUNS },
    );
    for (const bad of ['5/4', '0/4', '1/0', '0/0', '-1/4', '4', '/4', '1/4/2'])
      expectFlagError((attempt(() => parseFlagShard(bad)) as { error: HerdError }).error, '--shard');
  });

  it('parseFlagStartAt: a time within 24 h or E_FLAG naming --start-at', { timeout: TIME_MS }, () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const timeish = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc
        .date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      fc.constantFrom(
        '2026-01-01T01:00:00Z',
        '2026-01-01T01:00:00+25:00',
        '2026-13-01T00:00:00Z',
        '2026-01-01T00:00:00',
        'T Z',
        '2026-01-01T99:99:99Z',
      ),
    );
    fc.assert(
      fc.property(timeish, (text) => {
        const r = attempt(() => parseFlagStartAt(text, now));
        if (r.ok) expect(Number.isFinite(r.value) && r.value - now <= 24 * 3600 * 1000).toBe(true);
        else expectFlagError(r.error, '--start-at');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('--source-ips', () => {
  const octet = fc.integer({ min: 0, max: 300 });
  const ip = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
  const part = fc.oneof(
    ip,
    fc.tuple(ip, ip).map(([a, b]) => `${a}-${b}`),
    fc.tuple(ip, fc.integer({ min: -1, max: 40 })).map(([a, n]) => `${a}/${n}`),
    fc.string({ maxLength: 15 }),
    fc.constantFrom(
      '127.0.0.9-127.0.0.2',
      '127.0.0.0/16',
      '0.0.0.0-255.255.255.255',
      '::1',
      '127.0.0.1/',
      '-',
      '/',
      ',',
      '127.0.0.1-',
      '127.1.2.3/32/1',
    ),
  );
  const spec = fc.array(part, { minLength: 0, maxLength: 4 }).map((a) => a.join(','));

  it(
    'a list of distinct IPv4 addresses (at most 4096) or E_FLAG naming --source-ips, quickly',
    { timeout: TIME_MS },
    () => {
      fc.assert(
        fc.property(spec, (text) => {
          const started = Date.now();
          const r = attempt(() => parseSourceIps(text));
          expect(Date.now() - started).toBeLessThan(2_000);
          if (r.ok) {
            expect(r.value.length).toBeGreaterThan(0);
            expect(r.value.length).toBeLessThanOrEqual(4096);
            expect(new Set(r.value).size).toBe(r.value.length);
            for (const a of r.value) expect(isIPv4(a), a).toBe(true);
          } else expectFlagError(r.error, '--source-ips');
        }),
        { numRuns: RUNS },
      );
    },
  );

  it('a range that ends before it starts is named as such', () => {
    const r = attempt(() => parseSourceIps('127.0.0.9-127.0.0.2'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expectFlagError(r.error, '--source-ips');
      expect(r.error.message).toContain('ends before it starts');
    }
  });

  it('an ascending range gives exactly its addresses, in order', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 250 }), fc.integer({ min: 0, max: 200 }), (lo, len) => {
        const hi = Math.min(255, lo + len);
        const r = parseSourceIps(`127.0.1.${lo}-127.0.1.${hi}`);
        expect(r).toEqual(Array.from({ length: hi - lo + 1 }, (_, i) => `127.0.1.${lo + i}`));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('target URLs', () => {
  const urlish = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.webUrl().map((u) => u.replace(/^https?/, 'mqtt')),
    fc
      .tuple(
        fc.constantFrom('mqtt', 'mqtts', 'ws', 'wss', 'http', 'tcp', 'MQTT', ''),
        fc.constantFrom('127.0.0.1', '[::1]', 'localhost', '', ' ', '%'),
        fc.constantFrom('', ':1', ':65535', ':65536', ':70000', ':-1', ':x', ':'),
      )
      .map(([s, h, p]) => `${s}://${h}${p}`),
  );

  it('an address on a usable port or E_TARGET_URL naming the flag', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(urlish, (text) => {
        const r = attempt(() => parseTargetUrl(text, '--target'));
        if (r.ok) {
          expect(['mqtt', 'mqtts', 'ws', 'wss']).toContain(r.value.scheme);
          expect(r.value.host).not.toBe('');
          expect(r.value.port >= 1 && r.value.port <= 65535, `port ${r.value.port} accepted for ${text}`).toBe(true);
        } else {
          expect(r.error.code).toBe('E_TARGET_URL');
          expectFlagError(r.error, '--target');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('port 0 is not a port a client can connect to', () => {
    const r = attempt(() => parseTargetUrl('mqtt://127.0.0.1:0', '--target'));
    expect(r.ok).toBe(false);
  });
});

describe('compare tolerances', () => {
  const tolish = fc.oneof(
    numberish,
    fc
      .tuple(fc.nat(1000), fc.constantFrom('%', 'ms', 'us', 'µs', 's', 'pp', '', 'x', '%%'))
      .map(([n, u]) => `${n}${u}`),
  );
  it('a tolerance or E_FLAG naming --max-regression', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(tolish, (text) => {
        const r = attempt(() => parseTolerance(text, '--max-regression'));
        if (r.ok) expect(Number.isFinite(r.value.kind === 'relative' ? r.value.fraction : r.value.amount)).toBe(true);
        else expectFlagError(r.error, '--max-regression');
      }),
      { numRuns: RUNS },
    );
  });

  it('--tolerance entries: a map or E_FLAG naming --tolerance', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ maxLength: 20 }),
            tolish.map((t) => `connect.total.p99=${t}`),
          ),
          { maxLength: 3 },
        ),
        (entries) => {
          const r = attempt(() => parseToleranceOverrides(entries));
          if (!r.ok) expect(r.error.message.startsWith('--tolerance'), r.error.message).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('herd target flags', () => {
  const base = { profile: 'default', host: '127.0.0.1', port: '0', processes: '1' };
  it('--port and --processes: options in range or E_FLAG', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(numberish, numberish, (port, processes) => {
        const r = attempt(() =>
          parseTargetOptions(targetInputFromFlags({ ...base, port, processes }), 'herd target', 'E_FLAG'),
        );
        if (r.ok) {
          expect(
            Number.isInteger(r.value.port) && r.value.port >= 0 && r.value.port <= 65535,
            `port ${r.value.port}`,
          ).toBe(true);
          expect(Number.isInteger(r.value.processes) && r.value.processes >= 1, `processes ${r.value.processes}`).toBe(
            true,
          );
        } else {
          expect(r.error.code).toBe('E_FLAG');
          expect(r.error.exitCode).toBe(2);
          expect(r.error.details.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
