/**
 * Preflight of one run on this machine, shared by `herd run` and `herd doctor` so they always agree:
 * the plan's peak against open files, ephemeral ports, TIME_WAIT and memory (preflight.ts), the
 * embedded target's processes against its own open-file limit, and the source addresses.
 */
import { buildPlan, peakConnectRatePerS } from '../plan/plan.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import { parseTargetUrl } from '../util/target-url.js';
import { assertLocalSourceIps, assertSourceFamily } from '../util/source-ips.js';
import { embeddedRateCheck, sizeEmbeddedTarget, type EmbeddedSizing } from '../engine/embedded-capacity.js';
import { preflight, type PreflightResult } from '../engine/preflight.js';
import { readSystemFacts, type SystemFacts } from '../engine/system.js';

export interface RunPreflight extends PreflightResult {
  /** Broker processes for the embedded target; null for a remote target. */
  embedded: EmbeddedSizing | null;
}

/** The count written in the scenario (target.embedded.processes), or null to let herd choose. */
export function writtenEmbeddedProcesses(s: ResolvedScenario): number | null {
  const p = (s.embeddedTarget as { processes?: unknown } | null)?.processes;
  return typeof p === 'number' && p > 0 ? p : null;
}

/** Every host the devices connect to, as far as the scenario names them (embedded: its listen host). */
export function targetHostsOf(s: ResolvedScenario): string[] {
  const urls = [...(s.target === 'embedded' ? [] : [s.target]), ...s.cohorts.flatMap((c) => c.targets ?? [])];
  const embeddedHost = (s.embeddedTarget as { host?: unknown } | null)?.host;
  return [...urls.map((u) => parseTargetUrl(u).host), ...(typeof embeddedHost === 'string' ? [embeddedHost] : [])];
}

export function runPreflight(
  s: ResolvedScenario,
  req: { workers: number | undefined; sourceIps: readonly string[] },
  shards = 1,
  facts: SystemFacts = readSystemFacts(),
): RunPreflight {
  // A foreign source address is bad input (exit 2), not a machine limit.
  assertLocalSourceIps(req.sourceIps);
  assertSourceFamily(req.sourceIps, targetHostsOf(s));
  const plan = buildPlan(s);
  // Every device is held until teardown, so the peak is the whole fleet (this shard's share of it).
  const peakConcurrent = Math.ceil(plan.devices / shards);
  const remote = s.target === 'embedded' ? null : parseTargetUrl(s.target);
  const embedded =
    remote === null ? sizeEmbeddedTarget(peakConcurrent, writtenEmbeddedProcesses(s), facts.openFileLimit.soft) : null;
  const r = preflight({
    peakConcurrent,
    peakConnectRatePerS: Math.ceil(peakConnectRatePerS(plan) / shards),
    workers: req.workers ?? null,
    sourceIps: req.sourceIps,
    targetHosts: [remote?.host ?? '127.0.0.1'],
    // Each embedded broker process listens on its own port: its own destination for port accounting.
    targetEndpoints: embedded?.processes ?? 1,
    facts,
  });
  if (embedded !== null) {
    const knobs = s.embeddedTarget as { handshakeCostMs?: unknown; handshakeBurnsCpu?: unknown } | null;
    const rate = embeddedRateCheck({
      peakConnectRatePerS: Math.ceil(peakConnectRatePerS(plan) / shards),
      cores: facts.cores,
      burnMs:
        knobs?.handshakeBurnsCpu === true && typeof knobs.handshakeCostMs === 'number' ? knobs.handshakeCostMs : 0,
      otherLoad: facts.loadAverage1m,
    });
    r.checks.push(rate.check);
    if (rate.advice !== null) r.advice.push(rate.advice);
    r.checks.unshift(embedded.check);
    if (embedded.problem !== null) r.problems.unshift(embedded.problem);
    else if (embedded.chosen && embedded.processes > 1) {
      r.advice.unshift(
        `the embedded target runs ${embedded.processes} broker processes (at most ${embedded.perProcessCapacity} connections each)`,
      );
    }
  }
  return { ...r, embedded };
}

/** The scenario as it ran: the broker processes herd chose are recorded in results.json. */
export function withEmbeddedProcesses(s: ResolvedScenario, pre: RunPreflight): ResolvedScenario {
  if (pre.embedded === null || !pre.embedded.chosen || pre.embedded.processes === 1) return s;
  return { ...s, embeddedTarget: { ...(s.embeddedTarget ?? {}), processes: pre.embedded.processes } };
}
