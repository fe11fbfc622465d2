/**
 * The one place that records what a connect attempt measured:
 * totalUs from the intended time, serviceUs from the socket, every phase the transport had, and a
 * failure's time to failure — never in the success distribution.
 */
import type { Failure } from '../protocols/classify.js';
import type { Device } from '../protocols/device.js';
import type { Recorder } from '../metrics/recorder.js';

/** Records schedule lag when the socket opens: opened − intended. Returns it. */
export function recordOpened(rec: Recorder, c: Device, intendedUs: number): number {
  const lagUs = c.socketOpenUs - intendedUs;
  rec.record('connect.scheduleLag', lagUs);
  return lagUs;
}

/** A successful connect: counted, and its total, service and phase times recorded. */
export function recordConnected(rec: Recorder, c: Device, intendedUs: number, cohort: number): void {
  rec.count('succeeded', cohort);
  rec.record('connect.total', c.readyUs - intendedUs, cohort);
  const ph = c.phaseTimes();
  rec.record('connect.service', ph.serviceUs);
  if (ph.dnsUs !== undefined) rec.record('phase.dns', ph.dnsUs);
  if (ph.tcpConnectUs !== undefined) rec.record('phase.tcpConnect', ph.tcpConnectUs);
  if (ph.tlsHandshakeUs !== undefined) {
    rec.record('phase.tlsHandshake', ph.tlsHandshakeUs);
    // Full and resumed handshakes cost very different CPU: timed apart.
    rec.record(c.tlsResumed === true ? 'phase.tlsResumed' : 'phase.tlsFull', ph.tlsHandshakeUs);
  }
  if (ph.wsUpgradeUs !== undefined) rec.record('phase.wsUpgrade', ph.wsUpgradeUs);
  if (ph.mqttConnackUs !== undefined) rec.record('phase.mqttConnack', ph.mqttConnackUs);
}

/** A failed attempt: timed out or failed by cause, and its time to failure from the intended time. */
export function recordFailed(rec: Recorder, f: Failure, intendedUs: number, nowUs: number, cohort: number): void {
  rec.count(f.origin === 'timeout' ? 'timedOut' : 'failed', cohort);
  rec.error(f, cohort);
  rec.record('connect.failed', nowUs - intendedUs, cohort);
}
