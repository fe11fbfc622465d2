/**
 * One aedes broker on a loopback port for a test file (started before its tests, closed after them),
 * and the options of a coordinator that runs against it.
 */
import { afterAll, beforeAll } from 'vitest';
import * as net from 'node:net';
import { Aedes } from 'aedes';
import type { CoordinatorOptions } from '../../src/engine/coordinator.js';
import type { ResolvedScenario } from '../../src/results/resolved-scenario.js';

/** Registers the broker's start and close with the file's hooks; `url()` is its mqtt:// URL once started. */
export function aedesOnLoopback(): { url: () => string } {
  let broker: Aedes;
  let server: net.Server;
  let url = '';
  beforeAll(async () => {
    broker = await Aedes.createBroker();
    server = net.createServer((s) => broker.handle(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
  });
  return { url: () => url };
}

/** A one-shard coordinator's options for `workers` workers against `url`, as the adapter tests run it. */
export function oneShardOptions(
  runId: string,
  scenario: ResolvedScenario,
  url: string,
  workers: number,
): CoordinatorOptions {
  return {
    runId,
    scenario,
    targets: [[url]],
    workers,
    shard: { index: 0, count: 1 },
    startAtMs: null,
    sourceIps: [],
    maxHandshakesInFlight: 0,
    maxPacketBytes: 64 * 1024,
    onWorkerFailure: 'abort',
  };
}
