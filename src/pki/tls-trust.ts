/**
 * Which TLS servers acmectl trusts: Node's built-in roots, plus the PEM certificates of `--ca-bundle` (or the
 * bundle stored with a certificate or an account). One helper for every TLS client (the CA transport, the
 * network stores), so that a bundle always adds to the roots and never replaces them.
 */
import { rootCertificates, type ConnectionOptions } from 'node:tls';

/** How a store URL asks for its server to be checked (`?tls_verify=`, `?servername=`, `--ca-bundle`). */
export interface TlsTrust {
  /** Verify the server's certificate; false only for test servers (`?tls_verify=false`). */
  tlsVerify: boolean;
  /** The name the certificate must carry when it differs from the host connected to. */
  servername?: string;
  /** Extra trusted CA certificates (PEM), besides Node's roots. */
  caBundlePem?: string;
}

/**
 * The `ca` list for a TLS client that trusts Node's roots and every bundle in `extraPem`. Node's `ca` option
 * replaces its roots, so they are listed too. Undefined when there is nothing extra: Node's default applies.
 */
export function trustedCertificates(extraPem: Iterable<string | undefined>): string[] | undefined {
  const extra = [...extraPem].filter((pem): pem is string => pem !== undefined && pem !== '');
  return extra.length === 0 ? undefined : [...rootCertificates, ...extra];
}

/** TLS connection options (for an https.Agent, tls.connect or ioredis) that check the server as `trust` says. */
export function tlsConnectionOptions(trust: TlsTrust): Pick<ConnectionOptions, 'rejectUnauthorized' | 'servername' | 'ca'> {
  const options: Pick<ConnectionOptions, 'rejectUnauthorized' | 'servername' | 'ca'> = { rejectUnauthorized: trust.tlsVerify };
  if (trust.servername !== undefined) options.servername = trust.servername;
  const ca = trustedCertificates([trust.caBundlePem]);
  if (ca !== undefined) options.ca = ca;
  return options;
}

/**
 * The first try for a server checked against a bundle: the bundle's certificates alone. Listing Node's ~140 roots
 * in `ca` makes Node parse every one of them again (about 50 ms per connection pool), which a private CA's server
 * never needs. A server whose certificate does not chain to the bundle is then tried with tlsConnectionOptions
 * (roots and bundle), so what is trusted in the end is exactly the same. Undefined without a bundle.
 */
export function bundleOnlyConnectionOptions(trust: TlsTrust): Pick<ConnectionOptions, 'rejectUnauthorized' | 'servername' | 'ca'> | undefined {
  if (trust.caBundlePem === undefined || trust.caBundlePem === '' || !trust.tlsVerify) return undefined;
  return { ...tlsConnectionOptions({ tlsVerify: true, ...(trust.servername !== undefined ? { servername: trust.servername } : {}) }), ca: trust.caBundlePem };
}
