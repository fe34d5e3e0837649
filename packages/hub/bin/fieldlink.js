#!/usr/bin/env node
// Runs the compiled CLI (npm run build). Development without a build:
//   node --conditions=source --import tsx packages/hub/src/cli/main.ts <role> [options]
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('fieldlink: the hub is not built yet: run `npm run build` in the repository first');
    process.exit(2);
  }
  throw err;
});
