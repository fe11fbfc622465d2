import type { Command } from 'commander';
import { assertLocalSourceIps, assertSourceFamily, parseSourceIps } from '../../util/source-ips.js';
import { pathIn, type CliContext } from '../context.js';
import { parseFlagNumber, sizeOverrides } from '../flags.js';
import { EXIT } from '../../errors.js';

export function registerDoctor(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  program
    .command('doctor')
    .description("check this machine's limits against a scenario's plan before running it")
    .argument('[scenario]', 'scenario file; without it, only the machine is described')
    .option('--devices <n>', 'number of devices, overriding the scenario (before --scale)')
    .option('--scale <x>', 'multiply devices and rates, as `herd run --scale` will')
    .option('--workers <n>', 'worker processes you intend to use')
    .option('--source-ips <spec>', 'source addresses you intend to use')
    .addHelpText(
      'after',
      '\nExample:\n  $ herd doctor scenarios/quickstart.yaml --devices 100000\n  $ herd doctor scenarios/nightly-5x.yaml --scale 5',
    )
    .action(
      async (
        path: string | undefined,
        f: { devices?: string; scale?: string; workers?: string; sourceIps?: string },
      ) => {
        // Loaded when the command runs, not when the CLI starts.
        const [{ loadScenario }, { runPreflight, targetHostsOf }, { readSystemFacts }, { painter }] = await Promise.all(
          [
            import('../../scenario/load.js'),
            import('../../run/run-preflight.js'),
            import('../../engine/system.js'),
            import('../output.js'),
          ],
        );
        // Flags and the scenario first: bad input gets its one message before any report starts.
        const loaded = path === undefined ? null : loadScenario(pathIn(ctx, path), sizeOverrides(f), ctx.cwd);
        const workers =
          f.workers === undefined ? undefined : parseFlagNumber(f.workers, '--workers', { min: 1, max: 256 });
        const sourceIps = f.sourceIps === undefined ? [] : parseSourceIps(f.sourceIps);
        assertLocalSourceIps(sourceIps);
        if (loaded !== null) assertSourceFamily(sourceIps, targetHostsOf(loaded.resolved));
        const p = painter(ctx);
        const facts = readSystemFacts();
        const out = (s: string): void => void ctx.stdout.write(s + '\n');
        out(p.bold('Machine'));
        out(
          `  cores ${facts.cores} · free memory ${Math.floor(facts.freeMemoryBytes / 1048576)} MiB` +
            ` · open files ${facts.openFileLimit.soft ?? 'unlimited'} (hard ${facts.openFileLimit.hard ?? 'unlimited'})`,
        );
        out(
          `  ephemeral ports ${facts.ephemeralPortRange ? facts.ephemeralPortRange.join('–') : 'unknown'}` +
            ` · TIME_WAIT sockets ${[...facts.timeWaitByIp.values()].reduce((a, b) => a + b, 0)}`,
        );
        if (loaded === null) return;
        const { resolved: s, warnings } = loaded;
        const r = runPreflight(s, { workers, sourceIps }, 1, facts);
        out('');
        out(
          p.bold(`Plan: ${s.name}`) +
            ` — ${s.devices} devices → ${s.target}, ${r.workers} worker${r.workers === 1 ? '' : 's'}` +
            (r.sourceIps.length > 0 ? `, ${r.sourceIps.length} source addresses` : ''),
        );
        for (const c of r.checks)
          out(
            `  ${!c.ok ? p.bad('✗') : c.warning ? p.warn('!') : p.ok('✓')} ${c.name.padEnd(44)} need ${c.need.padEnd(10)} have ${c.have}`,
          );
        for (const w of warnings) out(p.warn(`  warning: ${w}`));
        for (const a of r.advice) out(p.warn(`  → ${a}`));
        for (const x of r.problems) out(p.bad(`  ✗ ${x}`));
        const warned = warnings.length > 0 || r.checks.some((c) => c.warning);
        out(
          r.problems.length > 0
            ? p.bad('Not ready: fix the problems above.')
            : warned
              ? p.warn('Ready to run, with the warnings above.')
              : p.ok('Ready to run.'),
        );
        setExit(r.problems.length === 0 ? EXIT.ok : EXIT.runFailed);
      },
    );
}
