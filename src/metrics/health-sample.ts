/**
 * One worker's view of itself for one second (MEASUREMENT.md rule 4): what engine/health.ts
 * measures and what the saturation judgement reads.
 */
export interface HealthSample {
  loopDelayP99Us: number;
  loopDelayMaxUs: number;
  loopUtilisation: number;
  cpuPercent: number;
  rssBytes: number;
  openFiles: number | null;
  scheduleLagMaxUs: number;
}
