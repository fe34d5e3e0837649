// Types for scripts/peers.mjs (a plain script: it runs before anything is built).
export declare const PYTHON: string;
export declare const PEERS: readonly { pkg: string; for: string; present(): boolean; unpack?: string[] }[];
export declare function missingPeers(names?: readonly string[]): string[];
export declare function installCommand(missing: readonly string[]): string;
export declare function missingLine(missing: readonly string[], opts?: { isRoot?: boolean; hasApt?: boolean }): string;
export declare function plan(state: { missing: readonly string[]; isRoot: boolean; hasApt: boolean }):
  | { action: 'none' }
  | { action: 'install'; packages: string[]; unpack: string[] }
  | { action: 'fail'; line: string };
