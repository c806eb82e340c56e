import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { ariCertId } from '../../scripts/lib/pebble.js';
import { refusesReplaces } from './obtain-certificate.js';
import { AcmeProblemError } from './problem.js';
import { boundedRetryAfterMs, certId, DEFAULT_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS, parseRenewalInfo } from './ari.js';

const keyIdentifier = Buffer.from('0123456789abcdef0123456789abcdef01234567', 'hex');

/** A self-signed certificate with this serial (hex, as DER content octets) and, unless told otherwise, an AKI. */
function certificate(serialHex: string, withAki = true): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serialHex;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: 'ari.example.test' }]);
  cert.setIssuer([{ name: 'commonName', value: 'Test CA' }]);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    ...(withAki ? [{ name: 'authorityKeyIdentifier', keyIdentifier: keyIdentifier.toString('binary') }] : []),
  ]);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

describe('ARI CertID', () => {
  it('is base64url(AKI keyIdentifier) "." base64url(DER serial), as the harness computes it', () => {
    const pem = certificate('0102030405060708');
    expect(certId(pem)).toBe(`${keyIdentifier.toString('base64url')}.${Buffer.from('0102030405060708', 'hex').toString('base64url')}`);
    expect(certId(pem)).toBe(ariCertId(pem));
  });

  it('keeps the leading 0x00 of a serial whose high bit is set', () => {
    const pem = certificate('00ff0102030405060708');
    const serial = certId(pem).split('.')[1]!;
    expect(Buffer.from(serial, 'base64url').toString('hex')).toBe('00ff0102030405060708');
    expect(certId(pem)).toBe(ariCertId(pem));
  });

  it('says so when the certificate has no Authority Key Identifier', () => {
    expect(() => certId(certificate('01', false))).toThrow(/no Authority Key Identifier/);
  });
});

describe('renewal information answers', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const window = { start: '2026-06-10T00:00:00Z', end: '2026-06-12T00:00:00Z' };

  it('reads the window, the explanation URL and Retry-After', () => {
    const info = parseRenewalInfo(JSON.stringify({ suggestedWindow: window, explanationURL: 'https://ca.example/why' }), '3600', now);
    expect(info).toEqual({ start: new Date(window.start), end: new Date(window.end), explanationURL: 'https://ca.example/why', retryAfterMs: 3_600_000 });
  });

  it('refuses windows that are not windows', () => {
    const bad = (body: unknown) => () => parseRenewalInfo(body, undefined, now);
    expect(bad('not json')).toThrow(/not JSON/);
    expect(bad({})).toThrow(/no suggestedWindow/);
    expect(bad({ suggestedWindow: { start: window.end, end: window.start } })).toThrow(/ends before it starts/);
    expect(bad({ suggestedWindow: { start: 'tomorrow', end: window.end } })).toThrow(/suggestedWindow\.start/);
    expect(bad({ suggestedWindow: { start: window.start, end: '9999-01-01T00:00:00Z' } })).toThrow(/not a sane time/);
    expect(bad({ suggestedWindow: { start: 17, end: window.end } })).toThrow(/suggestedWindow\.start/);
  });

  it('drops an explanation URL that is not http(s), and makes control characters visible', () => {
    expect(parseRenewalInfo({ suggestedWindow: window, explanationURL: 'javascript:alert(1)' }, undefined, now).explanationURL).toBeNull();
    expect(parseRenewalInfo({ suggestedWindow: window, explanationURL: 'https://ca.example/\u001b[2J' }, undefined, now).explanationURL).not.toContain('\u001b');
  });

  it('bounds Retry-After: 6 hours when absent, at least a minute, at most a week', () => {
    expect(boundedRetryAfterMs(undefined, now)).toBe(DEFAULT_RETRY_AFTER_MS);
    expect(boundedRetryAfterMs('1', now)).toBe(MIN_RETRY_AFTER_MS);
    expect(boundedRetryAfterMs('99999999', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(boundedRetryAfterMs(new Date(now + 7200_000).toUTCString(), now)).toBe(7_200_000);
  });
});

describe('a refusal of `replaces`', () => {
  const refusal = (type: string, detail: string) => new AcmeProblemError('the CA refused creating the order', { type: `urn:ietf:params:acme:error:${type}`, detail });

  it('is alreadyReplaced, or the certificate belonging to another account', () => {
    expect(refusesReplaces(refusal('alreadyReplaced', 'certificate with serial 1a already has a replacement order'))).toBe(true);
    expect(refusesReplaces(refusal('unauthorized', 'requester account did not request the certificate being replaced by this order'))).toBe(true);
    expect(refusesReplaces(refusal('malformed', 'The certificate being replaced was issued to a different account'))).toBe(true);
  });

  it('is not any other refusal', () => {
    expect(refusesReplaces(refusal('malformed', 'Order included DNS identifier with empty value'))).toBe(false);
    expect(refusesReplaces(refusal('unauthorized', 'Account has been deactivated'))).toBe(false);
    expect(refusesReplaces(refusal('rateLimited', 'too many certificates for this account'))).toBe(false);
  });
});
