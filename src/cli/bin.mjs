#!/usr/bin/env node
// The `mware` command. Sources are TypeScript run through tsx: register it for this process (forked and threaded
// actors register it themselves in src/actor-system/host-boot.cjs), then hand over to the CLI.
await import(import.meta.resolve('tsx'));
const { main } = await import('./main.ts');
await main(process.argv);
