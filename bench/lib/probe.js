/**
 * Loaded into every herd process of a bench run through NODE_OPTIONS=--import (the coordinator and,
 * by inheritance, its forked workers). It samples the process's own CPU times and memory split
 * (RSS, V8 heap, external) every PROBE_MS and writes them to HERD_BENCH_PROBE_DIR when the process
 * exits, so the bench can tell heap from external memory — which /proc alone cannot. It changes
 * nothing in herd and costs one process.memoryUsage() call per sample.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.HERD_BENCH_PROBE_DIR;
const PROBE_MS = Number(process.env.HERD_BENCH_PROBE_MS ?? '100');
/** Bounded whatever the run length: ~1 hour at 100 ms. */
const MAX_SAMPLES = 36_000;

if (dir !== undefined && dir !== '') {
  /** Columns: wall ms, cpu user µs, cpu system µs, rss, heapUsed, heapTotal, external, arrayBuffers. */
  const samples = [];
  const take = () => {
    if (samples.length >= MAX_SAMPLES) return;
    const m = process.memoryUsage();
    const c = process.cpuUsage();
    samples.push([Date.now(), c.user, c.system, m.rss, m.heapUsed, m.heapTotal, m.external, m.arrayBuffers]);
  };
  take();
  setInterval(take, PROBE_MS).unref();
  const script = process.argv[1] ?? '';
  const role = script.endsWith('worker.js') ? 'worker' : script.endsWith('herd.js') ? 'coordinator' : 'other';
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    take();
    try {
      writeFileSync(join(dir, `probe-${process.pid}.json`), JSON.stringify({ pid: process.pid, ppid: process.ppid, role, script, samples }));
    } catch {
      // The bench reports a missing probe file; the run itself must not fail because of it.
    }
  };
  process.on('exit', write);
}
