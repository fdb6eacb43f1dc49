/**
 * The show's certificate authority and the certificates it issues: one server certificate for the
 * broker (embedded or Mosquitto) and one client certificate per node (CN = node id).
 * Made with @peculiar/x509 on node's WebCrypto: pure JavaScript, no openssl binary needed on a
 * fresh machine, and the same code on the hub and in CI. ECDSA P-256 keys (small, fast handshakes,
 * accepted by OpenSSL in Mosquitto and by node's TLS).
 */
// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as x509 from '@peculiar/x509';

const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const YEARS = 5;

export interface PemPair { cert: string; key: string }

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', x509.PemConverter.decode(pem)[0]!, ALG, true, ['sign']);
}

function validity(): { notBefore: Date; notAfter: Date; serialNumber: string } {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + YEARS * 365 * 86400_000);
  // Positive 16-byte serial (the high bit clear).
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  return { notBefore, notAfter, serialNumber: serial.toString('hex') };
}

export async function createCa(show: string): Promise<PemPair> {
  const keys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=Kuroko show CA ${show}`,
    keys,
    signingAlgorithm: ALG,
    ...validity(),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

async function issue(ca: PemPair, cn: string, usage: 'server' | 'client', names: { dns?: string[]; ip?: string[] } = {}): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importKey(ca.key);
  const keys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as CryptoKeyPair;
  const san = [...(names.dns ?? []).map((value) => ({ type: 'dns' as const, value })), ...(names.ip ?? []).map((value) => ({ type: 'ip' as const, value }))];
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${cn}`,
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    ...validity(),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      ...(san.length ? [new x509.SubjectAlternativeNameExtension(san)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

/** The broker's certificate: valid for localhost, 127.0.0.1, this machine's name and any --host given. */
export function createServerCert(ca: PemPair, hosts: string[] = []): Promise<PemPair> {
  const dns = [...new Set(['localhost', hostname(), `${hostname()}.local`, ...hosts.filter((h) => !/^[\d.:]+$/.test(h))])];
  const ip = [...new Set(['127.0.0.1', '::1', ...hosts.filter((h) => /^[\d.:]+$/.test(h))])];
  return issue(ca, 'kuroko-broker', 'server', { dns, ip });
}

/** A node agent's HTTPS certificate: CN = node id, one DNS name the fleet checks (agentTlsName). */
export function createAgentCert(ca: PemPair, nodeId: string, dnsName: string): Promise<PemPair> {
  return issue(ca, nodeId, 'server', { dns: [dnsName] });
}

/** A node's client certificate: CN = node id (Mosquitto can map it to the username). */
export function createClientCert(ca: PemPair, cn: string): Promise<PemPair> {
  return issue(ca, cn, 'client');
}
