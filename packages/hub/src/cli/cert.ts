/**
 * `fieldlink cert dev`: a small private CA for a LAN, made with @peculiar/x509
 * over Node's WebCrypto (ECDSA P-256): the CA (ca.pem, to install on clients
 * and give the hub as --tls-ca), a server certificate for --hosts (server.pem /
 * server-key.pem for --tls-cert / --tls-key) and, with --device, a client
 * certificate whose CN is the device id (--tls-client-auth). Keys are written
 * with mode 0600. For the Internet use certificates from a real CA.
 */
// @peculiar/x509 uses tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { isDeviceId } from '@fieldlink/protocol';
import { certOptions } from '../config/options.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/schema.js';

type KeyPair = webcrypto.CryptoKeyPair;
x509.cryptoProvider.set('default', webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]); // the default provider: Node's WebCrypto
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

const keys = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<KeyPair>;

async function keyPem(k: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', k));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
}

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');

export async function runCert(argv: string[]): Promise<number> {
  if (argv[0] !== 'dev') throw new ConfigError('usage: fieldlink cert dev [--out ./certs] [--hosts a,b] [--device id]');
  const cfg = loadConfig(certOptions, argv.slice(1), (m) => console.error(`fieldlink: ${m}`));
  if (cfg.device && !isDeviceId(cfg.device)) throw new ConfigError(`--device ${cfg.device} is not a valid device id`);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + cfg.days * 86_400_000);
  const caKeys = await keys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: 'CN=Fieldlink development CA', notBefore, notAfter, keys: caKeys, signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const issue = async (cn: string, usage: x509.ExtendedKeyUsage, san?: x509.JsonGeneralNames) => {
    const k = await keys();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(), subject: `CN=${cn}`, issuer: ca.subject, notBefore, notAfter, publicKey: k.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([usage]),
        await x509.AuthorityKeyIdentifierExtension.create(ca),
        ...(san ? [new x509.SubjectAlternativeNameExtension(san)] : []),
      ],
    });
    return { cert: cert.toString('pem') + '\n', key: await keyPem(k.privateKey) };
  };
  const hosts = cfg.hosts.length ? cfg.hosts : ['localhost'];
  const server = await issue(hosts[0]!, x509.ExtendedKeyUsage.serverAuth, hosts.map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h })));
  mkdirSync(cfg.out, { recursive: true });
  const write = (name: string, text: string, secret = false) => writeFileSync(join(cfg.out, name), text, { mode: secret ? 0o600 : 0o644 });
  write('ca.pem', ca.toString('pem') + '\n');
  write('ca-key.pem', await keyPem(caKeys.privateKey), true);
  write('server.pem', server.cert);
  write('server-key.pem', server.key, true);
  const files = ['ca.pem', 'ca-key.pem', 'server.pem', 'server-key.pem'];
  if (cfg.device) {
    const dev = await issue(cfg.device, x509.ExtendedKeyUsage.clientAuth);
    write(`device-${cfg.device}.pem`, dev.cert);
    write(`device-${cfg.device}-key.pem`, dev.key, true);
    files.push(`device-${cfg.device}.pem`, `device-${cfg.device}-key.pem`);
  }
  console.log(`wrote ${files.map((f) => join(cfg.out, f)).join(', ')}`);
  console.log(`server certificate valid for: ${hosts.join(', ')} until ${notAfter.toISOString().slice(0, 10)}`);
  console.log(`start the hub with: fieldlink hub --tls-cert ${join(cfg.out, 'server.pem')} --tls-key ${join(cfg.out, 'server-key.pem')}${cfg.device ? ` --tls-ca ${join(cfg.out, 'ca.pem')} --tls-client-auth optional` : ''}`);
  return 0;
}
