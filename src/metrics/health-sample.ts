/**
 * One worker's view of itself for one second: what engine/health.ts
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
