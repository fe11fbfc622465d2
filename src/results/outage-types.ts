/** results.json: one outage and its recovery (part of types.ts, kept apart for size). */
import type { CommandRecord } from './command-schema.js';

export interface PercentilesUs {
  p50Us: number | null;
  p90Us: number | null;
  p99Us: number | null;
  p100Us: number | null;
}

export interface OutageResult {
  name: string;
  /**
   * device: herd dropped the devices; target: the embedded target had the outage; observed: herd
   * found a loss it did not cause (atUs: its first loss or failed connect; offlineUs: until the
   * target accepted a connect again, or until the run ended when it never did); declared: the
   * scenario's commands broke the target at atUs and restored it offlineUs later (`commands`).
   */
  side: 'device' | 'target' | 'observed' | 'declared';
  atUs: number;
  offlineUs: number;
  mode: string;
  /** Observed outages only: false when the target never accepted a connect again in the run. */
  targetAcceptedAgain?: boolean | undefined;
  /** Devices the outage hit (connected or not at the time). */
  dropped: number;
  recovered: number;
  /** Of the hit devices not back, those a later outage hit again first (its own count has their return). */
  interrupted: number;
  /** Time from the end of the outage until that share of the hit devices was connected again; null = never reached. */
  recovery: PercentilesUs;
  /** Real attempts per recovered device. */
  reconnectAttempts: { p50: number; p99: number; max: number };
  /** Encoded histograms behind the two figures above, for exact merging of shards. */
  recoveryHistogram: string;
  attemptsHistogram: string;
  /** Highest attempts per second and handshakes in flight from the outage's start until the next outage starts. */
  peakAttemptsPerS: number;
  peakHandshaking: number;
  /** Most successful connects in one second from the second the outage ended in, until the next outage starts. */
  peakSucceededPerSAfterEnd: number;
  commands?: CommandRecord[] | undefined;
  /** Declared outages only: false when a command failed, timed out, was interrupted or never ran. */
  commandsOk?: boolean | undefined;
}
