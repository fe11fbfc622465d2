/**
 * scenarios/aws-throttle.yaml behaves as its header says (issue 16), asserted from results.json:
 * against AWS IoT Core's connect limits, the MQTT.js-defaults cohort (1 s lock step) is the one
 * throttled but is back within seconds; the AWS-SDK cohort (jittered exponential backoff) is barely
 * throttled but takes far longer to be back. The scenario file itself is run, unmodified.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { runHerd } from '../helpers/cli.js';

describe('scenarios/aws-throttle.yaml', () => {
  it(
    'MQTT.js lock step gets throttled and recovers fast; the AWS SDK is spread, barely throttled and slower',
    { timeout: 150_000 },
    async () => {
      const out = mkdtempSync(join(tmpdir(), 'herd-aws-throttle-'));
      const r = await runHerd(['run', 'scenarios/aws-throttle.yaml', '--out', out, '--allow-saturated', '--quiet'], {
        timeoutMs: 140_000,
      });
      if (r.code !== 0) process.stderr.write(r.stderr);
      expect(r.code).toBe(0);
      const [id] = readdirSync(out);
      const res = JSON.parse(readFileSync(join(out, id as string, 'results.json'), 'utf8')) as Results;
      const refused = (cohort: string): number =>
        res.cohorts[cohort]?.errors.filter((e) => e.code === 'CONNACK_9F').reduce((a, e) => a + e.count, 0) ?? 0;
      const mqttjs = refused('mqttjs');
      const aws = refused('aws-sdk');
      // 150 devices in one instant against a 50/s quota (bucket of 50): 100 refusals in the first second alone.
      expect(mqttjs).toBeGreaterThanOrEqual(100);
      expect(mqttjs).toBeGreaterThan(3 * aws);
      expect(res.serverSignals.CONNACK_9F).toBe(mqttjs + aws);
      const [awsDrop, jsDrop] = ['drop-aws-sdk', 'drop-mqttjs'].map((n) => res.outages.find((o) => o.name === n));
      expect(jsDrop?.recovered).toBe(150);
      expect(jsDrop?.recovery.p99Us).not.toBeNull();
      expect(awsDrop?.recovery.p99Us ?? Infinity).toBeGreaterThan(3 * (jsDrop?.recovery.p99Us as number));
      expect(res.attempts.timedOut).toBe(0);
    },
  );
});
