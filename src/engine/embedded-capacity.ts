/**
 * How many broker processes the embedded target needs (pure). Each process is its own Node
 * process with the same open-file limit as herd (Node raises its soft limit to the hard one at
 * start, and a child inherits it): past ~19,000 connections one process runs out of files and
 * resets everything above that — which would be the harness's limit passed off as the target's.
 */

/** Files a broker process keeps besides device connections: listeners, IPC, stdio, TLS files, the Node runtime. */
export const EMBEDDED_FD_HEADROOM = 1_000;
/** The schema's ceiling for target.embedded.processes. */
export const MAX_EMBEDDED_PROCESSES = 64;

export interface EmbeddedSizing {
  processes: number;
  perProcessCapacity: number;
  /** True when herd chose the count (the scenario left target.embedded.processes out). */
  chosen: boolean;
  problem: string | null;
  check: { name: string; need: string; have: string; ok: boolean };
}

export function embeddedCapacityPerProcess(fdSoft: number | null): number {
  return Math.max(1, (fdSoft ?? 1_000_000) - EMBEDDED_FD_HEADROOM);
}

export function sizeEmbeddedTarget(
  peakConcurrent: number,
  explicit: number | null,
  fdSoft: number | null,
): EmbeddedSizing {
  const perProcessCapacity = embeddedCapacityPerProcess(fdSoft);
  const needed = Math.max(1, Math.ceil(peakConcurrent / perProcessCapacity));
  const processes = explicit ?? Math.min(needed, MAX_EMBEDDED_PROCESSES);
  const ok = processes * perProcessCapacity >= peakConcurrent;
  const limit = `open-file limit ${fdSoft ?? 'unlimited'}`;
  let problem: string | null = null;
  if (!ok) {
    problem =
      needed > MAX_EMBEDDED_PROCESSES
        ? `the embedded target would need ${needed} broker processes for ${peakConcurrent} connections (at most ${perProcessCapacity} each, ${limit}) but runs at most ${MAX_EMBEDDED_PROCESSES}: raise \`ulimit -n\`, shard the run (--shard) or use an external target (--target)`
        : `target.embedded.processes: ${processes} broker process${processes === 1 ? '' : 'es'} ` +
          `hold${processes === 1 ? 's' : ''} at most ${processes * perProcessCapacity} connections ` +
          `(${perProcessCapacity} each, ${limit}) but the plan holds ${peakConcurrent}: ` +
          `set target.embedded.processes: ${needed} or more, or leave it out and herd chooses`;
  }
  return {
    processes,
    perProcessCapacity,
    chosen: explicit === null,
    problem,
    check: {
      name: 'embedded target processes',
      need: `${needed}`,
      have: `${processes}${explicit === null ? ' (chosen)' : ''} × ${perProcessCapacity} connections`,
      ok,
    },
  };
}

/**
 * CPU one device's connect and clean disconnect cost the embedded target (aedes, mqtt-packet and the
 * socket work): 0.84 ms measured on a 2-vCPU AMD EPYC at 2.1 GHz with `/proc/<pid>/stat` CPU time,
 * marginal between 1,000 and 3,000 devices at 300 connects/s, before the target skipped aedes's
 * offline-queue pipeline for clean sessions and framed the CONNECT itself; those cut it to 0.56–0.78
 * of that (median 0.62), side by side with the previous code (bench/target-connect-cost.js): ~0.55 ms. Plus what
 * it costs herd's worker (~150 µs for an MQTT handshake on the JavaScript path). Both share the machine's cores on
 * loopback. A profile's `handshakeCostMs` is modelled on the target's clock and costs no CPU,
 * unless `handshakeBurnsCpu` spends it as a busy loop.
 */
export const EMBEDDED_CONNECT_CPU_US = 550;
export const HARNESS_CONNECT_CPU_US = 150;

export interface RateCheckInput {
  peakConnectRatePerS: number;
  cores: number;
  /** CPU ms a CONNECT burns on the target besides its own work (handshakeBurnsCpu), else 0. */
  burnMs: number;
  /** Runnable work of other processes (the 1-minute load average before herd starts), or null if unknown. */
  otherLoad: number | null;
}

/** A warning when the plan's connect rate needs more CPU than this machine has for target and harness together. */
export function embeddedRateCheck(i: RateCheckInput): {
  check: EmbeddedSizing['check'] & { warning?: true };
  advice: string | null;
} {
  const { peakConnectRatePerS, cores } = i;
  const perConnectUs = EMBEDDED_CONNECT_CPU_US + i.burnMs * 1000 + HARNESS_CONNECT_CPU_US;
  // Other work keeps its cores; half a core is assumed left whatever the load says.
  const busy = Math.min(Math.max(0, i.otherLoad ?? 0), cores - 0.5);
  const ceilingPerS = Math.floor(((cores - busy) * 1e6) / perConnectUs);
  const over = peakConnectRatePerS > ceilingPerS;
  const onCores =
    `${cores} core${cores === 1 ? '' : 's'}` + (busy >= 0.1 ? `, ~${busy.toFixed(1)} busy with other work` : '');
  return {
    check: {
      name: 'connect rate (embedded target + herd)',
      need: `${peakConnectRatePerS}/s`,
      have: `~${ceilingPerS.toLocaleString('en')}/s on ${onCores} (~${(perConnectUs / 1000).toFixed(2)} ms CPU per connect)`,
      ok: true,
      ...(over ? { warning: true as const } : {}),
    },
    advice: over
      ? `warning: the plan peaks at ${peakConnectRatePerS.toLocaleString('en')} connects/s, but the embedded target and herd share ${onCores} ` +
        `and together manage ~${ceilingPerS.toLocaleString('en')}/s: expect timeouts and a saturated harness; spread the waves over more time, or run the target on another machine (--target)`
      : null,
  };
}
