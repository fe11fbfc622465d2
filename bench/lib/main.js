/** What every bench script shares: its flags, its summary file and how it ends. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The value after `--name` on the command line, or `dflt`. */
export function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
}

/** Writes the run's figures as summary.json in `workDir` and says where. */
export function writeSummary(workDir, data) {
  mkdirSync(workDir, { recursive: true });
  writeFileSync(join(workDir, 'summary.json'), JSON.stringify(data, null, 2));
  console.log(`\nfigures: ${join(workDir, 'summary.json')}`);
}

/** Runs `main`, exiting with its code, or 3 with the stack when it throws. */
export function runMain(name, main) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`bench/${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 3;
    },
  );
}
