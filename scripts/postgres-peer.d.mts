// Types for scripts/postgres-peer.mjs.
export interface PgProbe { ok: boolean; answered?: boolean; reason?: string }
export interface Effect { ok: boolean; already?: boolean; error?: string }
export interface PostgresSystem {
  probe(): Promise<PgProbe>;
  clusters(): string[];
  start(version: string): Effect;
  install(): Effect;
  configure(version: string): Effect;
  sleep(ms: number): Promise<void>;
}
export declare const DEFAULT_PG_URL: string;
export declare const HBA_LINES: readonly string[];
export declare function pgUrl(): string;
export declare function probePostgres(url?: string): Promise<PgProbe>;
export declare function installedClusters(root?: string): string[];
export declare function postgresLine(reason: string | undefined, opts?: { custom?: boolean; clusters?: readonly string[]; isRoot?: boolean }): string;
export declare function planPostgres(state: { probe: PgProbe; custom: boolean; clusters: readonly string[]; isRoot: boolean; hasApt: boolean }):
  | { action: 'none' }
  | { action: 'start'; version: string }
  | { action: 'install' }
  | { action: 'fail'; line: string };
export declare const systemPostgres: PostgresSystem;
export declare function ensurePostgres(opts: { isRoot: boolean; hasApt: boolean; log(line: string): void; custom?: boolean; sys?: PostgresSystem; tries?: number }): Promise<boolean>;
