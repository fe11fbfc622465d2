/**
 * Tests that need an outside program (Mosquitto, Chromium, RabbitMQ) skip with a visible reason when it is
 * absent — unless HERD_REQUIRE_EXTERNAL=1 (set by .ci/run), which turns the skip into a failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES: Record<string, string[]> = {
  mosquitto: [
    '/usr/sbin/mosquitto',
    '/usr/bin/mosquitto',
    '/usr/local/sbin/mosquitto',
    '/usr/local/bin/mosquitto',
    '/opt/homebrew/sbin/mosquitto',
  ],
  chromium: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'],
  // RabbitMQ's own start script: Debian's /usr/sbin/rabbitmq-server wrapper switches to the rabbitmq user.
  'rabbitmq-server': [
    '/usr/lib/rabbitmq/bin/rabbitmq-server',
    '/opt/homebrew/opt/rabbitmq/sbin/rabbitmq-server',
    '/usr/local/opt/rabbitmq/sbin/rabbitmq-server',
  ],
};

export function findProgram(name: string): string | null {
  for (const p of CANDIDATES[name] ?? []) if (existsSync(p)) return p;
  try {
    const out = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    return out === '' ? null : out;
  } catch {
    return null;
  }
}

/**
 * Returns the program's path, or null (and prints why the tests will skip). Throws when
 * HERD_REQUIRE_EXTERNAL=1 and the program is missing, so CI can never skip silently.
 */
export function externalProgram(name: string): string | null {
  const path = findProgram(name);
  if (path !== null) return path;
  const msg = `${name} is not installed: tests that need it are skipped (install it, e.g. \`apt-get install -y ${name}\`)`;
  if (process.env.HERD_REQUIRE_EXTERNAL === '1') throw new Error(`HERD_REQUIRE_EXTERNAL=1 but ${msg}`);
  console.warn(`SKIP: ${msg}`);
  return null;
}
