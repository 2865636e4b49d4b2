#!/usr/bin/env node
// The package is compiled on install (`npm run build`, run by `prepare`); this shim keeps the
// `latchkey` bin valid even before the first build, so npm can link it.
await import('../dist/src/cli/main.js');
