import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

/**
 * The compiled JavaScript file for a module next to `from` (e.g. the worker entry). When the
 * caller runs from TypeScript sources (tests), child processes still run the built dist/ copy.
 */
export function compiledSibling(from: string, relative: string): string {
  const path = fileURLToPath(new URL(relative, from));
  if (existsSync(path)) return path;
  const dist = path.replace(/([/\\])src([/\\])/, '$1dist$2');
  if (existsSync(dist)) return dist;
  throw new Error(`cannot find ${relative} (looked at ${path} and ${dist}); run \`npm run build\``);
}

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
