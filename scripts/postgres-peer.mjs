// PostgreSQL for the tests: the server at FIELDLINK_TEST_PG_URL, by default
// postgres://postgres@127.0.0.1:5432/test (trust for 127.0.0.1, database `test`).
// scripts/peers.mjs, before the tests:
//   - it answers: nothing happens;
//   - it refuses us (no database `test`, authentication): fail with that reason;
//   - a Debian cluster is installed but down, as root: `pg_ctlcluster
//     --skip-systemctl-redirect <ver> main start`, wait up to 30 s;
//   - nothing installed, root with apt-get: `apt-get install postgresql`, start
//     the cluster, add trust for postgres@127.0.0.1 and ::1 to database `test`
//     only (pg_hba.conf, first lines), create `test` owned by postgres;
//   - otherwise (not root, no apt-get, a URL of its own): ONE line saying what to do.
// Tests call requirePostgres() (packages/hub/test/storage/pg-harness.ts), which
// fails with the same line: a PostgreSQL test is never skipped.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const pgUrl = () => process.env.FIELDLINK_TEST_PG_URL || DEFAULT_PG_URL;
export const HBA_LINES = ['host test postgres 127.0.0.1/32 trust', 'host test postgres ::1/128 trust'];

/** Resolves { ok: true } or { ok: false, answered, reason }: `answered` when a server spoke but refused us. */
export async function probePostgres(url = pgUrl()) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return { ok: true };
  } catch (err) {
    // A SQLSTATE code (none starts with E, unlike errno names such as EPIPE): a server spoke and refused us.
    return { ok: false, answered: typeof err?.code === 'string' && /^(?!E)[0-9A-Z]{5}$/.test(err.code), reason: String(err?.message ?? err).split('\n')[0] };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Debian clusters (versions with /etc/postgresql/<ver>/main), newest first. */
export function installedClusters(root = '/etc/postgresql') {
  try {
    return readdirSync(root).filter((v) => existsSync(`${root}/${v}/main/postgresql.conf`)).sort((a, b) => Number(b) - Number(a));
  } catch {
    return [];
  }
}

/** The one line for a PostgreSQL the tests cannot have; `reason` says what the probe saw. */
export function postgresLine(reason, { custom = false, clusters = [], isRoot = false } = {}) {
  const sudo = isRoot ? '' : 'sudo ';
  const url = custom ? pgUrl() : DEFAULT_PG_URL;
  const todo = custom
    ? 'make that server reachable with that database, or unset FIELDLINK_TEST_PG_URL to use the default'
    : clusters.length
      ? `run \`${sudo}pg_ctlcluster --skip-systemctl-redirect ${clusters[0]} main start\` (or \`${sudo}node scripts/peers.mjs\`, which starts it); it needs database \`test\` and \`${HBA_LINES[0]}\` in pg_hba.conf`
      : `run \`${sudo}node scripts/peers.mjs\` (it installs Debian's postgresql, starts it, creates database \`test\` and trusts postgres@127.0.0.1 for it), or set FIELDLINK_TEST_PG_URL to a server that has one`;
  return `fieldlink tests need PostgreSQL at ${url} (${reason}): ${todo}, then npm test again`;
}

/** The decision alone: { action: 'none' | 'start' | 'install' | 'fail', … }. */
export function planPostgres({ probe, custom, clusters, isRoot, hasApt }) {
  if (probe.ok) return { action: 'none' };
  const fail = () => ({ action: 'fail', line: postgresLine(probe.reason, { custom, clusters, isRoot }) });
  if (probe.answered || custom || !isRoot) return fail(); // a server refused us, or not ours to manage
  if (clusters.length) return { action: 'start', version: clusters[0] };
  return hasApt ? { action: 'install' } : fail();
}

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', ...opts });
const asPostgres = (sql) => run('runuser', ['-u', 'postgres', '--', 'psql', '-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-c', sql]);

/** The real effects, one function each, so ensurePostgres can be driven by fakes in tests. */
export const systemPostgres = {
  probe: () => probePostgres(),
  clusters: () => installedClusters(),
  /** Starts the cluster unless pg_lsclusters already shows it online (then it does nothing). */
  start(version) {
    const ls = run('pg_lsclusters', ['--no-header', version, 'main']);
    if (/\bonline\b/.test(ls.stdout ?? '')) return { ok: true, already: true };
    const r = run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
    return r.status === 0 ? { ok: true } : { ok: false, error: `pg_ctlcluster ${version} main start failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').pop()}` };
  },
  install() {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'postgresql']]) {
      const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
      if (r.status !== 0) return { ok: false, error: `\`apt-get ${args.join(' ')}\` failed (exit ${r.status})` };
    }
    return { ok: true };
  },
  /** Trust for postgres@127.0.0.1/::1 on database `test` (prepended once), then the database itself. */
  configure(version) {
    const hba = `/etc/postgresql/${version}/main/pg_hba.conf`;
    const text = readFileSync(hba, 'utf8');
    const absent = HBA_LINES.filter((l) => !text.split('\n').some((t) => t.trim().split(/\s+/).join(' ') === l));
    if (absent.length) writeFileSync(hba, `# fieldlink tests (scripts/postgres-peer.mjs)\n${absent.join('\n')}\n${text}`);
    const reload = run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'reload']);
    if (reload.status !== 0) return { ok: false, error: `pg_ctlcluster ${version} main reload failed: ${(reload.stderr ?? '').trim()}` };
    const has = asPostgres("SELECT 1 FROM pg_database WHERE datname = 'test'");
    if (has.status !== 0) return { ok: false, error: `psql as postgres failed: ${(has.stderr ?? '').trim()}` };
    if (has.stdout.trim() !== '1') {
      const c = asPostgres('CREATE DATABASE test OWNER postgres');
      if (c.status !== 0) return { ok: false, error: `CREATE DATABASE test failed: ${(c.stderr ?? '').trim()}` };
    }
    return { ok: true };
  },
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** Waits until the probe succeeds: `tries` probes a second apart (30: the 30 s of .ci/run). */
async function waitReachable(sys, tries) {
  let p = await sys.probe();
  for (let i = 1; !p.ok && i < tries; i++) {
    await sys.sleep(1000);
    p = await sys.probe();
  }
  return p;
}

/** Does what planPostgres decides; resolves true when the tests' server answers. */
export async function ensurePostgres({ isRoot, hasApt, log, custom = Boolean(process.env.FIELDLINK_TEST_PG_URL), sys = systemPostgres, tries = 30 }) {
  const probe = await sys.probe();
  let clusters = sys.clusters();
  const d = planPostgres({ probe, custom, clusters, isRoot, hasApt });
  if (d.action === 'none') return true;
  if (d.action === 'fail') return log(d.line), false;
  const failWith = (reason) => (log(postgresLine(reason, { clusters, isRoot })), false);
  let version = d.version;
  if (d.action === 'install') {
    log('fieldlink tests: installing Debian\'s postgresql (database `test`, trust for postgres@127.0.0.1 only)');
    const i = sys.install();
    if (!i.ok) return failWith(i.error);
    clusters = sys.clusters();
    if (!clusters.length) return failWith('apt-get installed postgresql but /etc/postgresql/<version>/main is not there');
    version = clusters[0];
  } else {
    log(`fieldlink tests: starting PostgreSQL ${version} (pg_ctlcluster --skip-systemctl-redirect ${version} main start)`);
  }
  const s = sys.start(version);
  if (!s.ok) return failWith(s.error);
  if (d.action === 'install') {
    const c = sys.configure(version);
    if (!c.ok) return failWith(c.error);
  }
  const p = await waitReachable(sys, tries);
  return p.ok ? true : failWith(`still not answering after ${tries} s: ${p.reason}`);
}
