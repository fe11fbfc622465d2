import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerSchema(program: Command, ctx: CliContext): void {
  program
    .command('schema')
    .description('print the JSON Schema of scenario files (for editors; also in schemas/scenario.schema.json)')
    .addHelpText('after', '\nExample:\n  $ herd schema > scenario.schema.json')
    .action(async () => {
      const { scenarioJsonSchemaText } = await import('../../scenario/json-schema.js');
      ctx.stdout.write(scenarioJsonSchemaText());
    });
}
