import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { externalProgram } from '../helpers/external.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { runHerd, expectExit } from '../helpers/cli.js';

const mosquittoBin = externalProgram('mosquitto');

describe.skipIf(mosquittoBin === null)('herd run against Mosquitto (an independent broker)', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto(mosquittoBin as string);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('connects, holds and cleanly disconnects every device', async () => {
    const out = mkdtempSync(join(tmpdir(), 'herd-mosq-e2e-'));
    const r = await runHerd([
      'run',
      'scenarios/quickstart.yaml',
      '--target',
      broker.url,
      '--devices',
      '500',
      '--out',
      out,
      '--seed',
      '7',
      '--allow-saturated',
    ]);
    expectExit(r, 0);
    const [run] = readdirSync(out);
    const res = JSON.parse(readFileSync(join(out, run as string, 'results.json'), 'utf8')) as Results;
    expect(res.run.embeddedTarget).toBe(false);
    expect(res.scenario.seed).toBe(7);
    expect(res.attempts).toMatchObject({ planned: 500, succeeded: 500, failed: 0, timedOut: 0, dropped: 0 });
    expect(res.errors).toEqual([]);
    expect(res.latency['phase.mqttConnack']?.count).toBe(500);
  });
});
