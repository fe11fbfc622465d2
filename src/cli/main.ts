/** The CLI: parses arguments, calls one function per command, maps the outcome to an exit code. */
import { Command, CommanderError } from 'commander';
import { EXIT, HerdError } from '../errors.js';
import { HERD_VERSION } from '../version.js';
import type { CliContext } from './context.js';
import { registerRun } from './commands/run.js';
import { registerValidate } from './commands/validate.js';
import { registerTarget } from './commands/target.js';
import { registerReport } from './commands/report.js';
import { registerCompare } from './commands/compare.js';
import { registerSchema } from './commands/schema.js';
import { registerDoctor } from './commands/doctor.js';
import { registerExport } from './commands/export.js';
import { registerMerge } from './commands/merge.js';
import { registerBreakpoint } from './commands/breakpoint.js';

export async function runCli(ctx: CliContext): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('herd')
    .description(
      'Connection-storm load testing for device clouds: thousands of devices connecting, dropping and reconnecting in waves.',
    )
    .version(HERD_VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) })
    .addHelpText(
      'after',
      `
Quick start:
  $ herd run scenarios/quickstart.yaml      1,000 MQTT devices against the embedded target
  $ herd validate scenarios/quickstart.yaml check a scenario without running it
  $ herd target                             run the embedded target on its own`,
    );
  const setExit = (code: number): void => {
    exitCode = code;
  };
  registerRun(program, ctx, setExit);
  registerValidate(program, ctx);
  registerTarget(program, ctx);
  registerReport(program, ctx, setExit);
  registerCompare(program, ctx, setExit);
  registerSchema(program, ctx);
  registerDoctor(program, ctx, setExit);
  registerExport(program, ctx);
  registerMerge(program, ctx, setExit);
  registerBreakpoint(program, ctx, setExit);
  try {
    await program.parseAsync([...ctx.argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return EXIT.ok;
      return EXIT.badInput;
    }
    if (err instanceof HerdError) {
      const { printError } = await import('./output.js');
      printError(ctx, err);
      return err.exitCode;
    }
    ctx.stderr.write(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.runFailed;
  }
}
