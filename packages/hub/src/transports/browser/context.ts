import type { CodeName } from '@fieldlink/protocol';
import type { Logger } from 'pino';
import type { Bus } from '../../bus/types.js';
import type { Commands } from '../../services/commands.js';
import type { Registry } from '../../services/registry.js';
import type { Fanout } from './fanout.js';
import type { Security } from '../../auth/index.js';
import type { AlertAccess } from '../../services/alerts/access.js';
import type { ResumeStore } from './rebuild.js';

export type HistoryOutcome = { ok: true; result: unknown } | { ok: false; code: CodeName; message: string };

/** What the browser door's operations may use: services and the bus, never other doors. */
export interface BrowserContext {
  bus: Bus;
  fanout: Fanout;
  registry: Registry;
  commands: Commands;
  /** Undefined when the hub runs without a store. */
  history?: (params: Record<string, unknown>) => Promise<HistoryOutcome>;
  /** Undefined without a store (alerts need one). */
  alerts?: AlertAccess;
  /** Undefined without a store: resumes from an earlier hub run answer resumed:false. */
  resume?: ResumeStore;
  hubInfo(): Record<string, unknown>;
  log: Logger;
  defaultCallTimeoutMs: number;
  security: Security;
}
