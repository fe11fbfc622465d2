import type { Command } from 'commander';
import { basename, dirname, join } from 'node:path';
import { HerdError } from '../../errors.js';
import type { Overrides } from '../../scenario/resolve.js';
import { HERD_VERSION } from '../../version.js';
import { pathIn, type CliContext } from '../context.js';
import { parseFlagNumber, parseFlagScale } from '../flags.js';

interface ExportFlags {
  output?: string;
  target?: string;
  devices?: string;
  seed?: string;
  scale?: string;
  strict?: boolean;
}

export function registerExport(program: Command, ctx: CliContext): void {
  const exp = program.command('export').description('write a scenario as a script for another load-testing engine');
  exp
    .command('k6')
    .description('write a TypeScript k6 script (typed against @types/k6) that runs the scenario on k6 / k6-operator')
    .argument('<scenario>', 'scenario file (YAML or JSON)')
    .option('-o, --output <file>', 'write the script here (and xk6-mqtt.d.ts beside it); default: print to stdout')
    .option('--target <url>', 'target URL, overriding the scenario')
    .option('--devices <n>', 'number of devices, overriding the scenario (before --scale)')
    .option('--seed <n>', 'seed, overriding the scenario')
    .option('--scale <x>', 'multiply devices and rates')
    .option('--strict', 'exit 2 without writing anything when the scenario has a feature k6 cannot express')
    .addHelpText(
      'after',
      `
Examples:
  $ herd export k6 scenarios/quickstart.yaml -o storm.ts
  $ herd export k6 scenarios/quickstart.yaml --scale 5 --target mqtts://broker.example.invalid:8883 -o storm.ts
  $ herd export k6 scenarios/carrier-outage.yaml --strict     # exit 2: names waves[1] (outage)…

Run the script with a k6 built with xk6-mqtt (see the script's header and docs/k6.md).`,
    )
    .action(async (scenario: string, f: ExportFlags) => {
      const overrides: Overrides = {};
      if (f.target !== undefined && f.target !== 'embedded') overrides.target = f.target;
      if (f.devices !== undefined)
        overrides.devices = parseFlagNumber(f.devices, '--devices', { min: 1, max: 10_000_000 });
      if (f.seed !== undefined) overrides.seed = parseFlagNumber(f.seed, '--seed', { min: 0, max: 2 ** 32 - 1 });
      if (f.scale !== undefined) overrides.scale = parseFlagScale(f.scale);
      if (f.output !== undefined && f.output.trim() === '') throw new HerdError('E_FLAG', '-o: expected a file name');
      // Loaded when the command runs, not when the CLI starts.
      const [{ exportK6, k6Gaps, k6Sidecars }, { loadScenario }, { redactText }, atomic] = await Promise.all([
        import('../../export/k6.js'),
        import('../../scenario/load.js'),
        import('../../scenario/url-credentials.js'),
        import('../../util/atomic-write.js'),
      ]);
      const { ensureWritableFile, outputKind, writeFileAtomic } = atomic;
      const loaded = loadScenario(pathIn(ctx, scenario), overrides, ctx.cwd);
      // What the script leaves out, by scenario field, on stderr: a lossy export never passes silently.
      const gaps = k6Gaps(loaded.resolved, loaded.thresholds);
      const lines = gaps.map((g) => `${g.field}: ${g.why}`);
      if (f.strict === true && gaps.length > 0) {
        const what = `${gaps.length} scenario feature${gaps.length === 1 ? '' : 's'} k6 cannot express`;
        const fields = gaps.map((g) => g.field).join(', ');
        throw new HerdError('E_EXPORT_GAPS', `${scenario}: ${what} (--strict): ${fields}`, lines);
      }
      // Said once the script is out: a bad -o or a full disk is then the only thing on stderr.
      const sayGaps = (): void => {
        if (gaps.length === 0) return;
        ctx.stderr.write(
          `herd export k6: left out of the script (k6 cannot express them; --strict refuses):\n` +
            lines.map((l) => `  ${l}\n`).join(''),
        );
      };
      const script = exportK6(loaded.resolved, loaded.thresholds, {
        herdVersion: HERD_VERSION,
        scenarioPath: scenario,
        // The command line is a comment in the script: no URL password in it (the login code has its own copy).
        exportCommand: redactText(['herd', ...ctx.argv].map(shellQuote).join(' ')),
        scriptName: f.output === undefined ? 'storm.ts' : basename(f.output),
      });
      if (f.output === undefined) {
        ctx.stdout.write(script);
        sayGaps();
        return;
      }
      const out = pathIn(ctx, f.output);
      const dir = dirname(out);
      ensureWritableFile(out, '-o');
      // A device or FIFO (-o /dev/stdout) gets the script alone: no type files beside a device.
      const sidecars = outputKind(out) === 'file' ? k6Sidecars(loaded.resolved) : {};
      // Sidecars first: the script references them, so it is never on disk without its types.
      for (const [name, content] of Object.entries(sidecars)) writeFileAtomic(join(dir, name), content);
      writeFileAtomic(out, script);
      sayGaps();
      ctx.stderr.write(
        `wrote ${out}${Object.keys(sidecars)
          .map((n) => ` and ${join(dir, n)}`)
          .join('')}\n`,
      );
    });
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
