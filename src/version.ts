import { readFileSync } from 'node:fs';

/** herd's own version, read from package.json (one source). */
export const HERD_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
