/** The machine a run ran on, as results.json records it. */
import * as os from 'node:os';
import type { Environment } from '../results/types.js';
import { HERD_VERSION } from '../version.js';
import { readEphemeralPortRange, readOpenFileLimit } from '../engine/system.js';

export function describeEnvironment(): Environment {
  const cpus = os.cpus();
  return {
    herdVersion: HERD_VERSION,
    node: process.version,
    platform: process.platform,
    release: os.release(),
    arch: process.arch,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    openFileLimit: readOpenFileLimit(),
    ephemeralPortRange: readEphemeralPortRange(),
  };
}
