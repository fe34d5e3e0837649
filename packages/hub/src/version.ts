/** Kept in step with package.json by the release script; shown in /healthz and the auth reply. */
export const VERSION = '0.1.0';
