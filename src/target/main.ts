/**
 * Child-process entry of the embedded target. argv[2] is JSON {index, options} (options already
 * validated and resolved by the parent). Reports its endpoints over IPC, takes the run origin
 * and its peers' metrics URLs over IPC, and exits when the parent goes away, so no orphan
 * target is ever left behind.
 */
import { clockFromOrigin } from '../util/clock.js';
import type { ResolvedTargetOptions } from './options.js';
import { startTargetProcess } from './process.js';
import type { LagMessage, ParentMessage, TargetMessage } from './spawn.js';

const arg = JSON.parse(process.argv[2] ?? '{}') as { index: number; options: ResolvedTargetOptions };
const running = await startTargetProcess(arg.options, arg.index);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  const hard = setTimeout(() => process.exit(0), 3_000);
  hard.unref();
  void running.close().finally(() => process.exit(0));
};

process.on('message', (m: ParentMessage) => {
  if (m.type === 'origin') {
    // Same CLOCK_MONOTONIC as the harness: map its origin onto this process's performance.now().
    running.setOrigin(clockFromOrigin(BigInt(m.originNs)).originPerfMs, m.measuredUs ?? null);
  } else if (m.type === 'peers') {
    running.setPeers(m.metricsUrls.filter((u) => u !== running.metricsUrl));
  } else if (m.type === 'lag') {
    process.send?.({
      type: 'lag',
      index: running.index,
      lag: running.lag(),
      deliveriesDropped: running.snapshot().deliveriesDroppedTotal,
    } satisfies LagMessage);
  }
});
process.on('disconnect', stop);
process.on('SIGTERM', stop);
// Ctrl-C goes to the whole process group; the parent decides when the target stops.
process.on('SIGINT', () => {});

const ready: TargetMessage = {
  type: 'listening',
  index: running.index,
  pid: process.pid,
  host: running.host,
  port: running.port,
  endpoints: running.endpoints,
  metricsUrl: running.metricsUrl,
};
process.send?.(ready);
