// The CLI run from its sources (dist/ may be stale or missing): `node --import tsx test/cli/entry.ts <args>`.
import { main } from '../../src/cli.js';

process.exitCode = await main(process.argv);
