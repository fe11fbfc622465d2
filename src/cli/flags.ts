import { HerdError } from '../errors.js';

export function parseFlagNumber(value: string, flag: string, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new HerdError('E_FLAG', `${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function parseFlagScale(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0) || n > 1000) {
    throw new HerdError('E_FLAG', `--scale: expected a number greater than 0 and at most 1000, got ${JSON.stringify(value)}`);
  }
  return n;
}
