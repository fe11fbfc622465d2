/**
 * Declared outages: validation (every bad field named, exit 2), resolution into a target-side
 * window the engine measures like an injected one, what results.json keeps of a command (never its
 * line; a masked output tail), and which shard's records a merge keeps.
 */
import { describe, expect, it } from 'vitest';
import { HerdError } from '../../src/errors.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { buildPlan } from '../../src/plan/plan.js';
import { redactScenarioSecrets } from '../../src/scenario/url-credentials.js';
import { commandWords, maskSecrets, OutputTail, OUTPUT_TAIL_BYTES } from '../../src/run/command-output.js';
import { commandsAllowedProblem } from '../../src/run/declared-commands.js';
import { mergedCommands } from '../../src/run/merge.js';
import type { CommandRecord, Results } from '../../src/results/types.js';
import { alignDeclared, commandShardOffsetMs } from '../../src/run/merge-declared.js';
import type { Outcome } from '../../src/run/outcome.js';
import { createHistogram, encodeHistogram, recordUs } from '../../src/metrics/histogram.js';
import { histogramOf } from '../../src/run/outcome.js';

const base = { name: 'x', devices: 10, waves: [{ type: 'ramp', over: '1s' }], hold: '20s' };
const outage = { at: '5s', duration: '3s', break: 'docker kill broker', restore: 'docker start broker' };

function problems(declaredOutages: unknown, extra: Record<string, unknown> = {}): string[] {
  try {
    validateScenario({ ...base, ...extra, declaredOutages }, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(HerdError);
    expect((err as HerdError).exitCode).toBe(2);
    return [...(err as HerdError).details];
  }
  return [];
}

describe('declaredOutages: validation', () => {
  it('names each bad field, all at once', () => {
    expect(
      problems([
        { ...outage, timeout: '11m', restoreAfter: '1s' },
        { at: '5s', duration: '1s', break: '   ' },
        { ...outage, name: 'a b', timeout: '10ms' },
      ]),
    ).toEqual([
      'declaredOutages[0].timeout: expected at most 10m',
      'declaredOutages[0].restoreAfter: unknown field',
      'declaredOutages[1].break: expected a command line, not blanks',
      'declaredOutages[2].name: expected a name of letters, digits, ".", "_" or "-" (at most 64), e.g. "broker-kill"',
      'declaredOutages[2].timeout: expected at least 100ms',
    ]);
  });

  it('a restore at or after teardown, a start after it and a name used twice are cross-field problems', () => {
    expect(
      problems([
        { ...outage, name: 'k', at: '15s', duration: '6s' },
        { ...outage, name: 'k', at: '21s' },
      ]),
    ).toEqual([
      'declaredOutages[0].duration: the restore at 21s is not before the run ends (at 21s); lengthen hold or duration',
      'declaredOutages[1].name: "k" is used twice',
      'declaredOutages[1].at: 21s is not before the run ends (at 21s)',
    ]);
  });

  it('resolves to a declared window the plan treats as a target outage (after the embedded target’s), 30s timeout by default', () => {
    const { resolved } = validateScenario({ ...base, declaredOutages: [outage, { ...outage, at: '10s' }] }, 't');
    expect(resolved.declaredOutages).toEqual([
      {
        name: 'declared-1',
        atUs: 5e6,
        offlineUs: 3e6,
        break: 'docker kill broker',
        restore: 'docker start broker',
        timeoutUs: 30e6,
      },
      {
        name: 'declared-2',
        atUs: 10e6,
        offlineUs: 3e6,
        break: 'docker kill broker',
        restore: 'docker start broker',
        timeoutUs: 30e6,
      },
    ]);
    expect(resolved.outageWindows.map((w) => [w.name, w.side, w.mode])).toEqual([
      ['declared-1', 'declared', 'declared'],
      ['declared-2', 'declared', 'declared'],
    ]);
    const plan = buildPlan(resolved);
    expect(plan.outages.map((o) => [o.name, o.side, o.atUs, o.offlineUs])).toEqual([
      ['declared-1', 'target', 5e6, 3e6],
      ['declared-2', 'target', 10e6, 3e6],
    ]);
    // results.json's copy of the scenario never holds a command line.
    expect(redactScenarioSecrets(resolved).declaredOutages.map((o) => [o.break, o.restore])).toEqual([
      ['(not recorded)', '(not recorded)'],
      ['(not recorded)', '(not recorded)'],
    ]);
  });

  it('runs only with --allow-commands, on the shard that runs them', () => {
    const { resolved } = validateScenario({ ...base, declaredOutages: [outage] }, 't');
    expect(commandsAllowedProblem(resolved.declaredOutages, true, false)).toBe(
      'declaredOutages[0].break: this scenario runs a command on this machine (1 declared outage, the first "declared-1" at 5s); herd runs them only with --allow-commands — read them in the scenario first',
    );
    expect(commandsAllowedProblem(resolved.declaredOutages, true, true)).toBeNull();
    expect(commandsAllowedProblem(resolved.declaredOutages, false, false)).toBeNull();
    expect(commandsAllowedProblem([], true, false)).toBeNull();
  });
});

describe('a command’s output tail', () => {
  it('masks the command line’s words (not the program), URL passwords and secret-named environment values', () => {
    const line = 'mosquitto_ctrl -u admin -P hunter22 dynsec deleteClient dev';
    expect(commandWords(line)).toEqual(['admin', 'hunter22', 'dynsec', 'deleteClient']);
    expect(commandWords('TOKEN=abcd1234 curl -X POST')).toEqual(['TOKEN', 'abcd1234', 'curl', 'POST']);
    const out = 'Error: hunter22 rejected for admin at mqtt://admin:pw12@host; key s3cr3t-value; ok';
    expect(maskSecrets(out, line, { BROKER_API_KEY: 's3cr3t-value', HOME: '/root' })).toBe(
      'Error: *** rejected for *** at mqtt://***:***@host; key ***; ok',
    );
  });

  it('keeps the last 4 KiB, masking a secret the cut goes through as a whole', () => {
    const tail = new OutputTail();
    const secret = 'Sup3rSecretPassw0rd';
    tail.push(Buffer.from('x'.repeat(10_000)));
    // The secret straddles the 4 KiB boundary: 5 of its characters fall before the last 4096 bytes.
    tail.push(Buffer.from(secret + 'y'.repeat(OUTPUT_TAIL_BYTES - secret.length + 5)));
    const { text, truncated } = tail.read(`login --password ${secret}`, {});
    expect(truncated).toBe(true);
    expect(text).not.toContain('Passw0rd');
    expect(text).not.toContain('0rd');
    expect(Buffer.byteLength(text)).toBe(OUTPUT_TAIL_BYTES);
  });

  it('shows control characters escaped', () => {
    const tail = new OutputTail();
    tail.push(Buffer.from('a\u001b[2Jb\n'));
    expect(tail.read('true', {})).toEqual({ text: 'a\\x1b[2Jb\n', truncated: false });
  });
});

describe('merge keeps the commands of the shard that ran them', () => {
  const rec = (outcome: CommandRecord['outcome']): CommandRecord => ({
    role: 'break',
    outcome,
    plannedUs: 5e6,
    startedUs: outcome === 'other-shard' ? null : 5_001_000,
    durationUs: outcome === 'other-shard' ? null : 1000,
    exitCode: outcome === 'other-shard' ? null : 0,
    signal: null,
    outputTail: '',
    outputTruncated: false,
    note: null,
  });
  const shard = (outcome: CommandRecord['outcome']) =>
    ({ outages: [{ name: 'k', side: 'declared', commands: [rec(outcome)] }] }) as unknown as Results;
  it('shard 1’s records whatever the order of the files', () => {
    expect(mergedCommands([shard('other-shard'), shard('ok'), shard('other-shard')])).toEqual({ k: [rec('ok')] });
    expect(mergedCommands([shard('other-shard')])).toEqual({ k: [rec('other-shard')] });
  });
});

describe('merge moves a late shard’s declared recovery onto the commanding shard’s clock', () => {
  const encoded = (values: number[]): string => {
    const h = createHistogram();
    for (const v of values) recordUs(h, v);
    const e = encodeHistogram(h);
    h.destroy();
    return e;
  };
  const shard = (offsetMs: number, outcome: CommandRecord['outcome']) =>
    ({
      run: { clockOffsetMs: offsetMs },
      scenario: { outageWindows: [{ side: 'target' }, { side: 'declared' }] },
      outages: [
        { side: 'target', commands: undefined },
        { side: 'declared', commands: [{ outcome }] },
      ],
    }) as unknown as Results;
  const outcome = {
    outages: [
      { dropped: 1, recovered: 1, recoveryUs: encoded([2_000_000]), attempts: '' },
      { dropped: 2, recovered: 2, recoveryUs: encoded([1_000_000, 3_000_000]), attempts: '' },
    ],
  } as unknown as Outcome;

  it('by its offset minus the commanding shard’s; other outages untouched; below 0 is 0', () => {
    const shards = [shard(3000, 'ok'), shard(2000, 'other-shard')];
    expect(commandShardOffsetMs(shards)).toBe(3000);
    // Shard 2 started 1 s before shard 1, whose commands ran: it measured from 1 s too early.
    const aligned = alignDeclared(outcome, shards[1] as Results, 3000);
    expect(aligned.outages[0]).toBe(outcome.outages[0]);
    const h = histogramOf(aligned.outages[1]?.recoveryUs as string);
    // 1 s − 1 s = 0; 3 s − 1 s = 2 s, to HDR's 3 significant digits (each value its bucket's lowest, moved).
    expect(h.totalCount).toBe(2);
    expect(h.getValueAtPercentile(50)).toBe(0);
    expect(Math.abs(h.maxValue - 2_000_000)).toBeLessThanOrEqual(2_000_000 / 1000);
    h.destroy();
    expect(alignDeclared(outcome, shards[0] as Results, 3000)).toBe(outcome);
  });
});
