/**
 * TLS material from PEM files, for HTTPS/WSS and MQTTS. `reload()` re-reads the
 * files and swaps the secure context of running servers (SIGHUP), so renewed
 * certificates apply to new connections without a restart.
 */
import { readFileSync } from 'node:fs';
import type tls from 'node:tls';
import type { HubConfig } from './config/options.js';
import { ConfigError } from './config/schema.js';

export interface TlsMaterial {
  /** HTTPS never asks browsers for certificates; MQTTS does when --tls-client-auth is on. */
  options(door: 'https' | 'mqtts'): tls.TlsOptions;
  /** Re-read the files and apply them to these servers. Throws ConfigError on unreadable files, leaving the old context. */
  reload(servers: { https?: tls.Server; mqtts?: tls.Server }): void;
}

function read(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(`${option} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function loadTls(cfg: HubConfig): TlsMaterial | undefined {
  if (!cfg.tlsCert && !cfg.tlsKey) return undefined;
  if (!cfg.tlsCert || !cfg.tlsKey) throw new ConfigError('--tls-cert and --tls-key go together');
  if (cfg.tlsClientAuth !== 'off' && !cfg.tlsCa) throw new ConfigError(`--tls-client-auth ${cfg.tlsClientAuth} needs --tls-ca (the CA that signs device certificates)`);
  const build = () => {
    const https: tls.TlsOptions = { cert: read(cfg.tlsCert, '--tls-cert'), key: read(cfg.tlsKey, '--tls-key'), minVersion: 'TLSv1.2' };
    const mqtts: tls.TlsOptions = {
      ...https,
      ...(cfg.tlsCa ? { ca: read(cfg.tlsCa, '--tls-ca') } : {}),
      // Ask devices for certificates; `required` refuses the handshake without a valid one.
      ...(cfg.tlsClientAuth !== 'off' ? { requestCert: true, rejectUnauthorized: cfg.tlsClientAuth === 'required' } : {}),
    };
    return { https, mqtts };
  };
  let current = build();
  return {
    options: (door) => current[door],
    reload(servers) {
      const next = build();
      servers.https?.setSecureContext(next.https);
      servers.mqtts?.setSecureContext(next.mqtts);
      current = next;
    },
  };
}
