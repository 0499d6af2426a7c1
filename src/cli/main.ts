#!/usr/bin/env node
import { getEventListeners } from 'node:events';
import { EXIT } from './exit-codes.js';
import { runCli } from './program.js';

// Ctrl-C lets a command that waits or follows (it listens on the signal) end cleanly and say so,
// and `agent run` shut down in order (it has its own SIGINT handler). Any other command is
// simply ended, as it would be without a handler.
const interrupt = new AbortController();
process.once('SIGINT', () => {
  const handled = getEventListeners(interrupt.signal, 'abort').length > 0 || process.listenerCount('SIGINT') > 0;
  interrupt.abort();
  if (!handled) process.exit(EXIT.interrupted);
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: interrupt.signal,
});
