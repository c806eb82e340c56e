import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { tlsConnectionOptions, trustedCertificates } from './tls-trust.js';

const PRIVATE_ROOT = '-----BEGIN CERTIFICATE-----\nMIIB...private root...\n-----END CERTIFICATE-----\n';

describe('TLS trust', () => {
  it('adds a --ca-bundle to Node’s roots; it never replaces them', () => {
    const ca = trustedCertificates([PRIVATE_ROOT])!;
    expect(ca).toContain(PRIVATE_ROOT);
    expect(ca.slice(0, rootCertificates.length)).toEqual([...rootCertificates]);
  });

  it('leaves Node’s defaults alone when there is nothing to add', () => {
    expect(trustedCertificates([])).toBeUndefined();
    expect(trustedCertificates([undefined, ''])).toBeUndefined();
    expect(tlsConnectionOptions({ tlsVerify: true })).toEqual({ rejectUnauthorized: true });
  });

  it('turns a store URL’s TLS settings into connection options', () => {
    const options = tlsConnectionOptions({ tlsVerify: false, servername: 'etcd.internal', caBundlePem: PRIVATE_ROOT });
    expect(options.rejectUnauthorized).toBe(false);
    expect(options.servername).toBe('etcd.internal');
    expect(options.ca).toEqual([...rootCertificates, PRIVATE_ROOT]);
  });
});
