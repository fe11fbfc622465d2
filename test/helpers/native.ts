/**
 * Tests of the native storm core run only when the addon is built; otherwise they skip with the
 * reason printed — unless HERD_REQUIRE_EXTERNAL=1 (.ci/run, whose `npm ci` builds it), which fails.
 */
import { loadNative, nativeUnavailable } from '../../src/protocols/native/binding.js';

export function nativeBuilt(): boolean {
  if (loadNative() !== null) return true;
  const msg = `the native core is not available (${nativeUnavailable()}): native tests are skipped (build it with \`node scripts/build-native.js\`)`;
  if (process.env.HERD_REQUIRE_EXTERNAL === '1') throw new Error(`HERD_REQUIRE_EXTERNAL=1 but ${msg}`);
  console.warn(`SKIP: ${msg}`);
  return false;
}

/** The engines a device test runs on: always 'js', and 'native' when the addon is built. */
export function engines(): ('js' | 'native')[] {
  return nativeBuilt() ? ['js', 'native'] : ['js'];
}
