/**
 * The run's temporary root: each test file makes its own folder inside it (test/setup/tmp.ts).
 * A file whose tests were all skipped runs no hooks and leaves its empty folder behind; the root
 * goes at the end with every empty folder in it. What a failed test kept stays, and is named.
 */
import { chmodSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    tmpRoot: string;
  }
}

export default function setup(project: TestProject): () => void {
  const root = mkdtempSync(join(tmpdir(), 'herd-test-'));
  // Searchable by all, as /tmp is: a broker that drops to its own user (Mosquitto started as root
  // does) must still reach the folder a test made for it inside.
  chmodSync(root, 0o755);
  project.provide('tmpRoot', root);
  return () => {
    for (const name of readdirSync(root)) {
      try {
        rmdirSync(join(root, name));
      } catch {
        // Not empty: a failed test's files, kept (its file said where).
      }
    }
    const kept = readdirSync(root);
    if (kept.length === 0) rmdirSync(root);
    else process.stderr.write(`temporary files of failed tests kept in ${root}: ${kept.join(', ')}\n`);
  };
}
