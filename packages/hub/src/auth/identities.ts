/**
 * Identities kept in the store (both backends): device credentials, users and
 * API tokens. Only hashes of secrets are stored (auth/secrets.ts).
 */
import type { Role } from './acl.js';

export interface DeviceCredential {
  id: string;
  secretHash: string;
  createdAt: number;
}

export interface UserRecord {
  name: string;
  passwordHash: string;
  role: Exclude<Role, 'device'>;
  createdAt: number;
}

export interface TokenRecord {
  id: string;
  /** Hash of the token's secret part. */
  hash: string;
  /** A label for people: what the token is for. */
  name: string;
  role: Role;
  /** For device-role tokens: the device id they act as. For others: the user who made it, if any. */
  subject: string | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

/**
 * One change that may end access, from the store's numbered log (written by
 * triggers in the same transaction as the change, storage/*-migrations.ts).
 * `seq` only grows, and in commit order, so a reader that remembers the last
 * seq it handled misses nothing. Reasons: device `rotated` | `removed`; user
 * `password` | `role` | `removed`; token `revoked` | `changed` | `removed`.
 */
export interface IdentityEvent {
  seq: number;
  kind: 'device' | 'user' | 'token';
  id: string;
  reason: string;
  at: number;
}

export interface IdentityStore {
  getDevice(id: string): Promise<DeviceCredential | undefined>;
  putDevice(rec: DeviceCredential): Promise<void>;
  removeDevice(id: string): Promise<boolean>;
  listDevices(): Promise<DeviceCredential[]>;
  getUser(name: string): Promise<UserRecord | undefined>;
  putUser(rec: UserRecord): Promise<void>;
  removeUser(name: string): Promise<boolean>;
  listUsers(): Promise<UserRecord[]>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  putToken(rec: TokenRecord): Promise<void>;
  listTokens(): Promise<TokenRecord[]>;
  revokeToken(id: string, at: number): Promise<boolean>;
  /** Events with seq > `after`, oldest first, at most `limit`. */
  eventsAfter(after: number, limit: number): Promise<IdentityEvent[]>;
  /** The newest event's seq; 0 when there is none. */
  lastEventSeq(): Promise<number>;
  /** Drop events older than `before` (ms since the epoch); returns how many. */
  pruneEvents(before: number): Promise<number>;
  /** Any identity at all? (decides whether anonymous access is still the loopback default) */
  hasAny(): Promise<boolean>;
}
