/**
 * Spread over source addresses, the JavaScript path binds explicit ports from this worker's slice
 * of each address's ephemeral range (no kernel port search per connect): a session listener that
 * installs the slices when the run starts and removes them when it finishes.
 */
import {
  DEFAULT_EPHEMERAL_RANGE,
  SourcePorts,
  useSourcePorts,
  workerPortSlice,
} from '../protocols/transports/source-ports.js';
import type { RunnerOptions } from './runner-options.js';
import type { SessionListener } from './session-life.js';
import { workerSourceSlices } from './source-slices.js';
import { readEphemeralPortRange } from './system.js';

export function sourcePorts(o: RunnerOptions): SessionListener {
  return {
    start() {
      if (o.sourceIps.length === 0) return;
      const range = o.sourcePortRange ?? readEphemeralPortRange() ?? DEFAULT_EPHEMERAL_RANGE;
      const workers = o.workerCount ?? 1;
      const slices = workerSourceSlices(
        {
          devices: o.plan.devices,
          shardIndex: o.shardIndex ?? 0,
          shardCount: o.shardCount ?? 1,
          workerIndex: o.workerIndex,
          workerCount: workers,
          sourceIps: o.sourceIps,
          targetCountOf: (id) => o.targets[o.plan.cohortOf[id] as number]?.length ?? 0,
        },
        range,
      );
      useSourcePorts(new SourcePorts(workerPortSlice(range, o.workerIndex, workers), slices));
    },
    finish() {
      useSourcePorts(null);
    },
  };
}
