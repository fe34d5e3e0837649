// Types for scripts/node-red-peer.mjs.
export declare const NODE_RED_VERSION: string;
export declare const NODE_RED_CACHE: string;
export declare const NODE_RED_JS: string;
export declare function nodeRedVersion(): string | undefined;
export declare function nodeRedPresent(): boolean;
export declare function nodeRedMissingLine(): string;
export declare function ensureNodeRed(opts?: { log?: (line: string) => void }): { ok: true; installed: boolean } | { ok: false; error: string };
