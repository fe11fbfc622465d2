/**
 * Loaded into every herd process of a bench run through NODE_OPTIONS=--import (the coordinator and,
 * by inheritance, its forked workers). It samples the process's own CPU times and memory split
 * (RSS, V8 heap, external) every PROBE_MS and writes them to HERD_BENCH_PROBE_DIR when the process
 * exits, so the bench can tell heap from external memory — which /proc alone cannot.
 *
 * Tagged samples, each taken right after a full GC when the bench passed --expose-gc:
 * - 'pre-go': when the worker receives the coordinator's "go" message, before worker.js handles it;
 * - 'go': right after worker.js handled it (the runner built, before its first connect);
 * - 'held': a second after the bench sends SIGUSR2, which it does once every session is open and idle.
 * Their difference is the live heap a held connection costs, free of not-yet-collected garbage.
 * With each tagged sample goes a breakdown (`detail`): glibc malloc's arenas (mallinfo2, through the
 * native addon when it is built), /proc/self/smaps_rollup and V8's heap spaces. With
 * HERD_BENCH_HEAP_SNAPSHOT=1 the 'held' sample also writes a heap snapshot (bench/lib/heap-summary.js
 * counts its objects by constructor). With HERD_BENCH_ALLOC_PROFILE=1 a worker samples every allocation
 * from 'go' to 'held', garbage included (V8's sampling heap profiler), into alloc-PID.json.
 * The probe changes nothing in herd; its cost is one process.memoryUsage() per sample.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';

const dir = process.env.HERD_BENCH_PROBE_DIR;
const PROBE_MS = Number(process.env.HERD_BENCH_PROBE_MS ?? '100');
/** Between the two GCs of the 'held' sample. */
const SETTLE_MS = 1_000;
/** Bounded whatever the run length: ~1 hour at 100 ms. */
const MAX_SAMPLES = 36_000;

if (dir !== undefined && dir !== '') {
  const script = process.argv[1] ?? '';
  const role = script.endsWith('worker.js') ? 'worker' : script.endsWith('herd.js') ? 'coordinator' : 'other';
  /** Columns: wall ms, cpu user µs, cpu system µs, rss, heapUsed, heapTotal, external, arrayBuffers. */
  const samples = [];
  /** @type {Record<string, number[]>} */
  const tagged = {};
  const sample = () => {
    const m = process.memoryUsage();
    const c = process.cpuUsage();
    return [Date.now(), c.user, c.system, m.rss, m.heapUsed, m.heapTotal, m.external, m.arrayBuffers];
  };
  const take = () => {
    if (samples.length < MAX_SAMPLES) samples.push(sample());
  };
  /** @type {Record<string, object>} */
  const detail = {};
  const tag = (name) => {
    if (typeof globalThis.gc === 'function') globalThis.gc();
    tagged[name] = sample();
    detail[name] = breakdown();
    if (name === 'held' && process.env.HERD_BENCH_HEAP_SNAPSHOT === '1') {
      detail[name].heapSnapshot = writeHeapSnapshot(join(dir, `heap-${process.pid}.heapsnapshot`));
    }
  };
  // Experiments only: V8 flags NODE_OPTIONS does not accept (e.g. --no-page-promotion), set in
  // the workers before they connect. Named in the bench's output when used.
  if (role === 'worker' && process.env.HERD_BENCH_V8_FLAGS) setFlagsFromString(process.env.HERD_BENCH_V8_FLAGS);
  take();
  setInterval(take, PROBE_MS).unref();
  // The bench finds the workers' PIDs here while the run is going.
  writeFileSync(join(dir, `pid-${process.pid}.json`), JSON.stringify({ pid: process.pid, role }));
  if (role === 'worker') {
    // Listening to 'message' starts reading the IPC channel: doing it before worker.js has its own
    // listener would lose the coordinator's 'init'. So join only once worker.js listens; the 'go'
    // handler then runs right after worker.js's, still before the first connect (the origin is
    // 250 ms ahead of 'go').
    const onMessage = (m) => {
      if (m !== null && typeof m === 'object' && m.type === 'go') {
        tag('go');
        if (process.env.HERD_BENCH_ALLOC_PROFILE === '1') startAllocationProfile();
      }
    };
    // 'pre-go' runs before worker.js's own handler builds the runner: go − pre-go is what herd sets
    // up per planned device (typed-array rows, the fleet), apart from what each held session costs.
    const onFirst = (m) => {
      if (m !== null && typeof m === 'object' && m.type === 'go') tag('pre-go');
    };
    const hook = (event) => {
      if (event !== 'message') return;
      process.off('newListener', hook);
      queueMicrotask(() => {
        process.on('message', onMessage);
        process.prependListener('message', onFirst);
      });
    };
    process.on('newListener', hook);
    // A first GC, then the sample after a second one a second later: V8 returns the pages a GC
    // freed from a background task, so a sample right after one GC reads RSS that is about to go.
    process.on('SIGUSR2', () => {
      if (typeof globalThis.gc === 'function') globalThis.gc();
      stopAllocationProfile();
      setTimeout(() => tag('held'), SETTLE_MS).unref();
    });
  }
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    take();
    try {
      writeFileSync(
        join(dir, `probe-${process.pid}.json`),
        JSON.stringify({ pid: process.pid, ppid: process.ppid, role, script, samples, tagged, detail }),
      );
    } catch {
      // The bench reports a missing probe file; the run itself must not fail because of it.
    }
  };
  process.on('exit', write);
}

/** The native addon's mallinfo(), when it is built (the probe never builds or requires more). */
function mallinfoFn() {
  const addon = fileURLToPath(new URL('../../native/build/Release/herd_native.node', import.meta.url));
  if (!existsSync(addon)) return null;
  try {
    const b = createRequire(import.meta.url)(addon);
    return typeof b.mallinfo === 'function' ? b.mallinfo : null;
  } catch {
    return null;
  }
}
let mallinfo;

/** malloc arenas, smaps_rollup (kB → bytes) and V8 heap spaces, all in bytes. */
function breakdown() {
  if (mallinfo === undefined) mallinfo = mallinfoFn();
  const out = {};
  if (mallinfo !== null) {
    const [arena, mmapped, inUse, free] = mallinfo();
    out.malloc = { arenaBytes: arena, mmappedBytes: mmapped, inUseBytes: inUse, freeBytes: free };
  }
  try {
    const smaps = {};
    for (const line of readFileSync('/proc/self/smaps_rollup', 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+) kB/.exec(line);
      if (m !== null) smaps[m[1]] = Number(m[2]) * 1024;
    }
    out.smaps = smaps;
  } catch {
    // not Linux: no smaps
  }
  out.heapSpaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [
      s.space_name,
      { size: s.space_size, used: s.space_used_size, physical: s.physical_space_size },
    ]),
  );
  return out;
}

let profiler = null;
/** Samples allocations with their stacks, objects the GC already collected included. */
function startAllocationProfile() {
  import('node:inspector').then(({ Session }) => {
    profiler = new Session();
    profiler.connect();
    profiler.post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  });
}
function stopAllocationProfile() {
  if (profiler === null) return;
  const s = profiler;
  profiler = null;
  s.post('HeapProfiler.stopSampling', (err, r) => {
    if (!err) writeFileSync(join(dir, `alloc-${process.pid}.json`), JSON.stringify(r.profile));
    s.disconnect();
  });
}
