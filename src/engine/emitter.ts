/**
 * What a worker sends out each second: every second the recorder has finished, the last of them
 * with one health sample (the harness watches itself) that carries the
 * largest schedule lag — socket opened minus intended time — since the sample before.
 */
import type { Device } from '../protocols/device.js';
import type { Recorder } from '../metrics/recorder.js';
import { recordOpened } from './connect-record.js';
import type { HealthMonitor, HealthSample } from './health.js';
import type { RunnerOptions } from './runner-options.js';

export class Emitter {
  private lagMaxUs = 0;

  constructor(
    private readonly rec: Recorder,
    private readonly health: Pick<HealthMonitor, 'start' | 'stop' | 'sample'>,
    private readonly to: Pick<RunnerOptions, 'emit'>,
  ) {}

  start(): void {
    this.health.start();
  }

  stop(): void {
    this.health.stop();
  }

  /** An attempt's socket opened: its schedule lag is recorded, and kept for the next health sample. */
  opened(c: Device, intendedUs: number): void {
    const lagUs = recordOpened(this.rec, c, intendedUs);
    if (lagUs > this.lagMaxUs) this.lagMaxUs = lagUs;
  }

  /** Sends every second the recorder has finished; only the last carries the health sample. */
  flush(): void {
    const ready = this.rec.takeReady();
    if (ready.length === 0) return;
    const health = this.health.sample(this.lagMaxUs);
    this.lagMaxUs = 0;
    ready.forEach((d, i) => this.to.emit(d, i === ready.length - 1 ? health : null));
  }

  /** A health sample now (the run's last). */
  sample(): HealthSample {
    return this.health.sample(this.lagMaxUs);
  }
}
