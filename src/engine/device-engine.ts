/**
 * The notice a run prints about `device.engine: native`: which cohorts that asked for the native
 * core stay on the JavaScript path, and why. What a native core carries is its device kind's row
 * (protocols/kinds.ts); a kind without one carries nothing natively. A run can mix.
 */
import type { PreparedTarget } from '../protocols/device.js';
import { DEVICE_KIND_ROWS, type DeviceKindTable } from '../protocols/kinds.js';
import type { ResolvedDevice, ResolvedScenario } from '../results/resolved-scenario.js';

/**
 * HERD_NATIVE=0: the scenario with every cohort on the JavaScript path, whatever it asked, and the
 * notice naming the cohorts that asked for `native` (an `auto` cohort goes to js silently, as it
 * does when the addon is not built).
 */
export function withoutNative(s: ResolvedScenario): { scenario: ResolvedScenario; notices: string[] } {
  const js = (d: ResolvedDevice): ResolvedDevice => (d.engine === 'js' ? d : { ...d, engine: 'js' });
  const asked = s.cohorts.filter((c) => c.device.engine === 'native').map((c) => c.name);
  return {
    scenario: { ...s, device: js(s.device), cohorts: s.cohorts.map((c) => ({ ...c, device: js(c.device) })) },
    notices:
      asked.length === 0
        ? []
        : [
            `notice: HERD_NATIVE=0 — every device runs on the JavaScript path (device.engine native in cohort ${asked.join(', ')})`,
          ],
  };
}

/**
 * The one notice a run prints when cohorts asked for `native` and (some) stay on the JavaScript
 * path: empty when nothing was asked or everything went native. `targets` per cohort.
 */
export function engineNotices(
  cohorts: readonly { name: string; device: ResolvedDevice }[],
  targets: readonly (readonly PreparedTarget[])[],
  rows: DeviceKindTable = DEVICE_KIND_ROWS,
): string[] {
  const why: string[] = [];
  cohorts.forEach((c, i) => {
    if (c.device.engine !== 'native') return;
    const native = rows[c.device.protocol]?.native;
    const refusal = native ? native.refusal(c.device) : `${c.device.protocol} devices have no native core`;
    const off = native === undefined ? undefined : (targets[i] ?? []).find((t) => !native.carries(t));
    if (refusal !== null) why.push(`cohort ${c.name}: ${refusal}`);
    else if (off !== undefined) {
      const where = `${off.endpoint.scheme}://${off.endpoint.host}`;
      why.push(`cohort ${c.name}: target ${where} (the native core takes ${native?.carriesWhat})`);
    }
  });
  return why.length === 0
    ? []
    : [`notice: device.engine native — these devices run on the JavaScript path: ${why.join('; ')}`];
}

/**
 * Which connect path each cohort's devices ran on, by cohort name: `native` when the native core
 * carries every one of its targets, `js` when it carries none (or the cohort did not ask, or was
 * refused), `mixed` when it carries some. Settled the way the kind's open() settles it.
 */
export function enginesUsed(
  cohorts: readonly { name: string; device: ResolvedDevice }[],
  targets: readonly (readonly PreparedTarget[])[],
  rows: DeviceKindTable = DEVICE_KIND_ROWS,
): Record<string, 'js' | 'native' | 'mixed'> {
  const out: Record<string, 'js' | 'native' | 'mixed'> = {};
  cohorts.forEach((c, i) => {
    const native = rows[c.device.protocol]?.native;
    if (c.device.engine === 'js' || native === undefined || native.refusal(c.device) !== null) {
      out[c.name] = 'js';
      return;
    }
    const ts = targets[i] ?? [];
    const carried = ts.filter((t) => native.carries(t)).length;
    out[c.name] = carried === 0 ? 'js' : carried === ts.length ? 'native' : 'mixed';
  });
  return out;
}
