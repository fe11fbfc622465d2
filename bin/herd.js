#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/cli (built by `npm install` through the prepare script).
// The signal router is the first thing that runs, so a Ctrl-C while the CLI loads is never lost.
import { installSignalRouter } from '../dist/cli/signal-router.js';

const signals = installSignalRouter(process, (code) => process.exit(code));
const { runCli } = await import('../dist/cli/main.js');
const { processContext } = await import('../dist/cli/context.js');

let code = await runCli(processContext(signals));
if (signals.pending > 0) code = 130;
process.exitCode = code;
// Give stdout a moment to drain, then leave even if a stray handle is open.
setTimeout(() => process.exit(code), 50).unref();
