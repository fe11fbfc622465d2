#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/cli (built by `npm install` through the prepare script).
import { runCli } from '../dist/cli/main.js';
import { processContext } from '../dist/cli/context.js';

const code = await runCli(processContext());
process.exitCode = code;
// Give stdout a moment to drain, then leave even if a stray handle is open.
setTimeout(() => process.exit(code), 50).unref();
