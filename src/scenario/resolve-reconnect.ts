/**
 * A scenario's reconnect policy in resolved form (µs, defaults filled in): a vendor SDK preset
 * (issue 16) is expanded into the policy it stands for, and its device defaults are offered to
 * scenario/resolve.ts, which lays them under the device options.
 */
import { mustParseDurationUs } from '../util/duration.js';
import type { DeviceOptions, ReconnectInput, ReconnectPolicyInput } from './schema.js';
import { reconnectPolicySchema } from './schema.js';
import { expandPresetPolicy, isPresetInput, presetDeviceDefaults, presetStore } from './presets.js';
import type { PolicyExtras, ResolvedReconnect, ResolvedStore } from '../results/resolved-scenario.js';

/** A preset (issue 16) is expanded here into the policy it stands for, overrides laid over it. */
export function resolveReconnect(input: ReconnectInput): ResolvedReconnect {
  const r: ReconnectPolicyInput = isPresetInput(input) ? reconnectPolicySchema.parse(expandPresetPolicy(input)) : input;
  if (r.policy === 'none') return { policy: 'none' };
  return { ...resolvePolicy(r), ...policyExtras(r) };
}

/** The device options a preset sets; the cohort's own device fields are laid over them. */
export function sdkDeviceDefaults(r: ReconnectInput | undefined): Partial<DeviceOptions> {
  return r !== undefined && isPresetInput(r) ? presetDeviceDefaults(r) : {};
}

/** The message store a preset's SDK keeps (laid under `publish.store`), or null. */
export function sdkStore(r: ReconnectInput | undefined): ResolvedStore | null {
  return r !== undefined && isPresetInput(r) ? presetStore(r) : null;
}

function policyExtras(r: {
  jitterShare?: number | undefined;
  resetAfter?: string | undefined;
  serverSignals?: PolicyExtras['serverSignals'];
}): PolicyExtras {
  const out: PolicyExtras = {};
  if (r.serverSignals !== undefined)
    out.serverSignals = { ...r.serverSignals, backoffOn: [...r.serverSignals.backoffOn] };
  if (r.jitterShare !== undefined) out.jitterShare = r.jitterShare;
  if (r.resetAfter !== undefined) out.resetAfterUs = mustParseDurationUs(r.resetAfter);
  return out;
}

function resolvePolicy(r: ReconnectPolicyInput): ResolvedReconnect {
  switch (r.policy) {
    case 'none':
      return { policy: 'none' };
    case 'fixed':
      return {
        policy: 'fixed',
        delayUs: mustParseDurationUs(r.delay),
        jitter: r.jitter,
        maxAttempts: r.maxAttempts ?? null,
      };
    case 'linear':
      return {
        policy: 'linear',
        initialUs: mustParseDurationUs(r.initial),
        stepUs: mustParseDurationUs(r.step),
        maxUs: mustParseDurationUs(r.max),
        jitter: r.jitter,
        maxAttempts: r.maxAttempts ?? null,
      };
    case 'exponential':
      return {
        policy: 'exponential',
        initialUs: mustParseDurationUs(r.initial),
        multiplier: r.multiplier,
        maxUs: mustParseDurationUs(r.max),
        jitter: r.jitter,
        maxAttempts: r.maxAttempts ?? null,
      };
  }
}
