/**
 * What `herd run` opens or asks before it creates --out: the reachability probe of a remote target
 * and the loopback listeners it was asked for (--metrics-port, --webhook-sink). A port that cannot be
 * bound or a target that never answers is then one clear error with nothing written.
 */
import { HerdError } from '../errors.js';
import type { TargetAddress } from '../util/target-url.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { probeReachable } from './reachability.js';
import { WebhookSink } from './webhook-sink.js';

export interface RunSinks {
  metrics: MetricsServer | null;
  webhook: WebhookSink | null;
  close(): Promise<void>;
}

type Listen = { host: string; port: number } | null | undefined;

/** Binds the listeners; if the second cannot be bound, the first is closed before the error is thrown. */
export async function openRunSinks(metrics: Listen, webhook: Listen): Promise<RunSinks> {
  const m = metrics ? await startMetricsServer(metrics.host, metrics.port) : null;
  let w: WebhookSink | null = null;
  try {
    w = webhook ? await WebhookSink.start(webhook.host, webhook.port) : null;
  } catch (err) {
    await m?.close();
    throw err;
  }
  return {
    metrics: m,
    webhook: w,
    close: async () => {
      await m?.close();
      await w?.close();
    },
  };
}

/**
 * One TCP connect to a remote target: unreachable is an error unless --allow-unreachable, which
 * turns it into the returned warning. --no-preflight skips the probe.
 */
export async function checkReachable(
  remote: TargetAddress,
  o: { skipPreflight: boolean; allowUnreachable: boolean },
): Promise<string | null> {
  if (o.skipPreflight) return null;
  const probe = await probeReachable(remote.host, remote.port);
  if (probe.reachable) return null;
  if (!o.allowUnreachable) {
    throw new HerdError('E_TARGET_UNREACHABLE', `target ${remote.url} is unreachable: ${probe.why}`, [
      'to storm it anyway (devices hammering a dead cloud), add --allow-unreachable; every attempt is then counted as a failure and the report is written',
    ]);
  }
  return `warning: target ${remote.url} is unreachable (${probe.why}); running anyway (--allow-unreachable)`;
}
