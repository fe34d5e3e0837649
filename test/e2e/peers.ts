/**
 * A test that needs a Debian peer calls `requirePeers([...])` first: when one is
 * missing it fails with the line scripts/peers.mjs prints (what to install),
 * never skips. The table of peers is that script's (`npm test` runs it first as
 * "pretest" and installs them when it can).
 */
import { missingLine, missingPeers } from '../../scripts/peers.mjs';

export { PYTHON } from '../../scripts/peers.mjs';

export function requirePeers(names: readonly string[]): void {
  const missing = missingPeers(names);
  if (missing.length) throw new Error(missingLine(missing, { isRoot: process.getuid?.() === 0 }));
}
