/**
 * The broker's own CPU while herd storms it (bench/memory.js): /proc/<pid>/stat read every
 * BROKER_SAMPLE_MS, then over herd's connect window its CPU per connection, its share of one core,
 * and its busiest BROKER_PEAK_MS. Mosquitto runs on one thread: a share near 1.00 says its core,
 * not the client, set the connect rate.
 */
import { procCpuUs } from './procs.js';

/** The broker's CPU is read this often while herd runs (its figures over herd's connect window). */
const BROKER_SAMPLE_MS = 50;
/** The broker's busiest stretch of this length within the connect window (one core = 1.00). */
const BROKER_PEAK_MS = 250;

/** Runs `run` while sampling process `pid`'s CPU (user + system, µs): [wall ms, µs] rows. */
export async function sampleCpu(pid, run) {
  const samples = [];
  const take = () => {
    const us = procCpuUs(pid);
    if (us !== null) samples.push([Date.now(), us]);
  };
  take();
  const timer = setInterval(take, BROKER_SAMPLE_MS);
  try {
    return { result: await run(), samples };
  } finally {
    clearInterval(timer);
    take();
  }
}

/** CPU µs at wall time tMs, interpolated between samples. */
function cpuAtMs(samples, tMs) {
  for (let i = 1; i < samples.length; i++) {
    const [t1, c1] = samples[i];
    if (t1 < tMs) continue;
    const [t0, c0] = samples[i - 1];
    return t1 === t0 ? c1 : c0 + ((tMs - t0) / (t1 - t0)) * (c1 - c0);
  }
  return samples.at(-1)?.[1] ?? null;
}

/**
 * The broker over herd's connect window (origin → last CONNACK): CPU µs per connection, its busy
 * share (one core = 1), and its busiest BROKER_PEAK_MS — whether its one core was the limit.
 */
export function brokerFigures(samples, fromMs, toMs, succeeded) {
  if (samples.length < 2 || !(toMs > fromMs) || succeeded === 0) return null;
  const busy = (a, b) => (cpuAtMs(samples, b) - cpuAtMs(samples, a)) / ((b - a) * 1000);
  let peak = 0;
  for (let t = fromMs; t + BROKER_PEAK_MS <= toMs; t += BROKER_PEAK_MS / 2)
    peak = Math.max(peak, busy(t, t + BROKER_PEAK_MS));
  const us = cpuAtMs(samples, toMs) - cpuAtMs(samples, fromMs);
  return { usPerConnection: us / succeeded, busy: busy(fromMs, toMs), peakBusy: peak };
}
