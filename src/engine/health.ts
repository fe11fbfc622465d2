/**
 * The harness watching itself: per second, event-loop delay (from a
 * drift sampler recorded into an HDR histogram, so a long block is one long sample and nothing is
 * missed after a reset), event-loop utilisation, CPU, RSS and open files.
 */
import { readdirSync, statSync } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { createHistogram, recordUs, type Histogram } from '../metrics/histogram.js';
import type { HealthSample } from '../metrics/health-sample.js';

export type { HealthSample };

const SAMPLE_MS = 20;

export class HealthMonitor {
  private delay: Histogram = createHistogram();
  private timer: NodeJS.Timeout | null = null;
  private expectedMs = 0;
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  private cpu = process.cpuUsage();
  private cpuAtMs = performance.now();

  start(): void {
    this.expectedMs = performance.now() + SAMPLE_MS;
    this.timer = setInterval(() => {
      const now = performance.now();
      recordUs(this.delay, Math.max(0, now - this.expectedMs) * 1000);
      this.expectedMs = now + SAMPLE_MS;
    }, SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private lastRss = 0;

  /** RSS needs a file descriptor (/proc/self/statm): out of them, keep the last reading. */
  private rss(): number {
    try {
      this.lastRss = process.memoryUsage.rss();
    } catch {
      // EMFILE: the harness is at its file limit; the local errors already say so.
    }
    return this.lastRss;
  }

  sample(scheduleLagMaxUs: number): HealthSample {
    const elu = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage(this.cpu);
    this.cpu = process.cpuUsage();
    const nowMs = performance.now();
    const wallUs = Math.max(1, (nowMs - this.cpuAtMs) * 1000);
    this.cpuAtMs = nowMs;
    const s: HealthSample = {
      loopDelayP99Us: this.delay.totalCount === 0 ? 0 : this.delay.getValueAtPercentile(99),
      loopDelayMaxUs: this.delay.totalCount === 0 ? 0 : this.delay.maxValue,
      loopUtilisation: Math.round(elu.utilization * 1000) / 1000,
      cpuPercent: Math.round(((cpu.user + cpu.system) / wallUs) * 1000) / 10,
      rssBytes: this.rss(),
      openFiles: countOpenFiles(),
      scheduleLagMaxUs: Math.round(scheduleLagMaxUs),
    };
    this.delay.reset();
    return s;
  }
}

/** Where the open-files count comes from (injected by tests). */
export interface OpenFilesSource {
  /** The kernel's count: the size of /proc/self/fd (Linux ≥ 6.2; older kernels say 0). */
  size(): number;
  /** The entries of /proc/self/fd, the reader's own directory descriptor among them. */
  list(): number;
}

const PROC_FD: OpenFilesSource = {
  size: () => statSync('/proc/self/fd').size,
  list: () => readdirSync('/proc/self/fd').length,
};

/**
 * This process's open file descriptors, or null when it cannot be read. One stat where the kernel
 * counts (~20 µs at 7,500 descriptors; listing them cost ~3.7 ms, once a second on the worker's
 * loop), and it needs no descriptor of its own, so it still reads at the file limit. Where the
 * kernel says 0, the directory is listed, less the descriptor that reading it opened.
 */
export function countOpenFiles(src: OpenFilesSource = PROC_FD): number | null {
  try {
    const n = src.size();
    if (n > 0) return n;
  } catch {
    // No /proc, or a kernel that refuses: try the listing.
  }
  try {
    return Math.max(0, src.list() - 1);
  } catch {
    return null;
  }
}
