#!/usr/bin/env node
// Thin launcher: the CLI lives in src/cli.ts, compiled to dist/ by `npm ci` (the `prepare` script).
import { main } from '../dist/cli.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
