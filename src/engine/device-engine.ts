/**
 * Which connect path carries a cohort's devices (scenario `device.engine`): the native storm core
 * only for what it implements — MQTT over plain TCP to an IP address, connect / hold / keepalive /
 * end, no telemetry or requests — and the JavaScript path for everything else. A run can mix.
 */
import { nativeTarget, type PreparedTarget } from '../protocols/device.js';
import { loadNative, nativeUnavailable } from '../protocols/native/binding.js';
import type { ResolvedDevice } from '../results/resolved-scenario.js';

/** Why this cohort's devices cannot go native (whatever the targets), or null when they can. */
export function nativeRefusal(d: ResolvedDevice): string | null {
  if (d.protocol !== 'mqtt') return 'plain WebSocket devices';
  if (d.publish !== null) return 'devices that publish telemetry';
  if (d.requests !== null) return 'devices that take requests';
  if (d.downlink !== null) return 'devices that take downlink messages';
  if (loadNative() === null) return nativeUnavailable();
  return null;
}

/** 'native' when the cohort asked for it (native or auto) and nothing stands in the way. */
export function cohortEngine(d: ResolvedDevice): 'js' | 'native' {
  return d.engine !== 'js' && nativeRefusal(d) === null ? 'native' : 'js';
}

/**
 * The one notice a run prints when cohorts asked for `native` and (some) stay on the JavaScript
 * path: empty when nothing was asked or everything went native. `targets` per cohort.
 */
export function engineNotices(cohorts: readonly { name: string; device: ResolvedDevice }[], targets: readonly (readonly PreparedTarget[])[]): string[] {
  const why: string[] = [];
  cohorts.forEach((c, i) => {
    if (c.device.engine !== 'native') return;
    const refusal = nativeRefusal(c.device);
    const ts = targets[i] ?? [];
    const off = ts.filter((t) => !nativeTarget(t));
    if (refusal !== null) why.push(`cohort ${c.name}: ${refusal}`);
    else if (off.length > 0) why.push(`cohort ${c.name}: target ${off[0]?.endpoint.scheme}://${off[0]?.endpoint.host} (the native core takes plain mqtt:// to an IP address)`);
  });
  return why.length === 0 ? [] : [`notice: device.engine native — these devices run on the JavaScript path: ${why.join('; ')}`];
}
