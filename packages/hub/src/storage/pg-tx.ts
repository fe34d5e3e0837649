/**
 * One PostgreSQL transaction on a pooled client: BEGIN, `fn`, COMMIT; ROLLBACK
 * when anything throws. While checked out, the client's 'error' event (the
 * server or the network dropped the connection) is listened to: unheard it
 * would crash the hub; heard, the pending query fails and the caller sees it.
 */
import type pg from 'pg';

const ignore = (): void => undefined;

export async function pgTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  c.on('error', ignore);
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (err) {
    await c.query('ROLLBACK').catch(ignore);
    throw err;
  } finally {
    c.off('error', ignore);
    c.release();
  }
}
