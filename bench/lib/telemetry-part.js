/**
 * The telemetry part of bench/table.js: bench/memory.js's QoS 1 telemetry fleet (publish every 1 s,
 * echoed) beside the same fleet connect-only, herd `engine: native`, at one size — run as a child per
 * worker shape (2 workers, and 1 as the C client is one process), its summary.json read back, so the
 * issue's whole table comes from one `npm run bench:table`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @param {{ repoRoot: string, n: number, repeats: number, shapes: number[], sourcePool: string }} o
 * @returns {{ workers: number, connect: object | null, telemetry: object | null, skipped?: string }[]}
 */
export function measureTelemetry(o) {
  return o.shapes.map((workers) => {
    const args = [
      join(o.repoRoot, 'bench/memory.js'),
      ...['--sizes', String(o.n), '--clients', 'native', '--workloads', 'connect,telemetry'],
      ...['--repeats', String(o.repeats), '--workers', String(workers), '--source-pool', o.sourcePool],
    ];
    // Bounded: each herd run inside has its own 180 s timeout; this only guards against a hang.
    const r = spawnSync(process.execPath, args, {
      cwd: o.repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 30 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const file = /figures: (\S+summary\.json)/.exec(r.stdout ?? '')?.[1];
    if (r.status !== 0 || file === undefined) {
      const why = r.error?.message ?? `exit ${r.status ?? r.signal}`;
      return { workers, connect: null, telemetry: null, skipped: `bench/memory.js failed (${why})` };
    }
    const rows = JSON.parse(readFileSync(file, 'utf8')).rows[String(o.n)] ?? {};
    return { workers, connect: rows.native ?? null, telemetry: rows['native telemetry'] ?? null };
  });
}

/** The telemetry fleet's connect rate over the connect-only one's (same shape, same size), or null. */
export const telemetryRateRatio = (x) =>
  x.connect?.connPerS && x.telemetry?.connPerS ? x.telemetry.connPerS / x.connect.connPerS : null;

/** Reached only when both memory figures are within 1 KB: RSS after GC, and live (JS heap + malloc in use). */
export const telemetryBytesOk = (t) =>
  t?.gcRss == null ? null : t.gcRss <= 1024 && (t.live == null || t.live <= 1024);
