/**
 * Secrets at rest. User passwords (chosen by people, low entropy) are hashed
 * with scrypt from node:crypto (OpenSSL's), salted, parameters in the hash.
 * Device secrets and API tokens are generated here with 256 bits of entropy, so
 * a SHA-256 of them is enough and keeps a 10,000-device reconnect storm cheap.
 * Only hashes are stored; the clear value is printed once.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function fastHash(secret: string): string {
  return `sha256$${createHash('sha256').update(secret).digest('base64url')}`;
}

export function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return new Promise((resolve, reject) =>
    scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, (err, key) =>
      err ? reject(err) : resolve(`scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`),
    ),
  );
}

const eq = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

/** Check a clear secret against a stored hash of either kind, in constant time. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts[0] === 'sha256' && parts.length === 2) return eq(Buffer.from(fastHash(secret)), Buffer.from(stored));
  if (parts[0] === 'scrypt' && parts.length === 6) {
    const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
    const want = Buffer.from(hash, 'base64url');
    const got = await new Promise<Buffer>((resolve, reject) =>
      scrypt(secret, Buffer.from(salt, 'base64url'), want.length, { N: Number(n), r: Number(r), p: Number(p) }, (err, key) => (err ? reject(err) : resolve(key))),
    );
    return eq(got, want);
  }
  return false;
}

/**
 * A short fingerprint of a stored credential (its hash, and for users the role):
 * an identity remembers the generation it was proven against, so a rotated
 * secret or changed password is told from the current one without keeping
 * either (auth/revocation.ts).
 */
export function generation(...stored: string[]): string {
  return createHash('sha256').update(stored.join('\u0000')).digest('base64url').slice(0, 16);
}

/** API tokens read `flt_<id>_<secret>`: the id finds the record, the secret proves it. */
export function makeToken(id: string): { token: string; hash: string } {
  const secret = generateSecret();
  return { token: `flt_${id}_${secret}`, hash: fastHash(secret) };
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = /^flt_([A-Za-z0-9]{8,32})_([A-Za-z0-9_-]{20,128})$/.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function newTokenId(): string {
  return randomBytes(9).toString('base64url').replace(/[^A-Za-z0-9]/g, '').padEnd(12, '0').slice(0, 12);
}
