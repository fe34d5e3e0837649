/**
 * The day partitions of `points` (PostgreSQL schema v4): which exist, making the
 * ones a batch needs, and dropping whole days for retention.
 *
 * Partitions are made on demand: before a batch is inserted, the days it touches
 * that this process has not seen yet are created in one call
 * (`ensure_points_partitions`, advisory lock per day, so hubs sharing a database
 * make each once), with the following day too, so midnight rarely waits for DDL.
 */
import pg from 'pg';
import type { Point } from './types.js';

/** Width of a `points` partition (the migration's 86400000). */
const DAY = 86_400_000;

export class DayPartitions {
  /** Days whose partition is known to exist. */
  private readonly known = new Set<number>();

  constructor(private readonly pool: pg.Pool) {}

  async ensure(points: readonly Point[]): Promise<void> {
    let missing: Set<number> | undefined;
    let last = -1;
    for (const p of points) {
      const day = Math.floor(p.ts / DAY);
      if (day === last) continue; // points mostly arrive day by day
      last = day;
      if (!this.known.has(day)) (missing ??= new Set()).add(day).add(day + 1);
    }
    if (!missing) return;
    const days = [...missing].filter((d) => !this.known.has(d));
    await this.pool.query('SELECT ensure_points_partitions($1::bigint[])', [days]);
    for (const d of days) this.known.add(d);
  }

  /** After 23514 (no partition for a row): another hub dropped a day this one knew. */
  forget(): void {
    this.known.clear();
  }

  /**
   * Drops partitions that lie wholly before `before`, oldest first: every empty
   * one met on the way, and at most `max` that hold rows. Returns the rows dropped
   * (0: no whole day with rows is left before `before`).
   */
  async dropBefore(before: number, max = Infinity): Promise<number> {
    const { rows: parts } = await this.pool.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'points'::regclass`);
    const old = parts
      .map((p) => ({ name: p.name, to: Number(/TO \('?(\d+)'?\)/.exec(p.bound)?.[1] ?? NaN) }))
      .filter((p) => p.to <= before)
      .sort((a, b) => a.to - b.to);
    let rows = 0;
    let full = 0;
    for (const p of old) {
      if (full >= max) break;
      const table = pg.escapeIdentifier(p.name);
      let n: number;
      try {
        // Counted first, while attached: DROP then holds the parent's lock only briefly.
        n = (await this.pool.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM ${table}`)).rows[0]!.n;
        await this.pool.query(`DROP TABLE ${table}`);
      } catch (err) {
        // 42P01 undefined_table: another hub's retention on the same database dropped it first.
        if ((err as { code?: string }).code !== '42P01') throw err;
        n = 0;
      }
      this.known.delete(Math.floor((p.to - 1) / DAY));
      rows += n;
      if (n > 0) full++;
    }
    return rows;
  }
}
