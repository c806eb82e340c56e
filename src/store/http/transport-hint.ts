/**
 * What a user can do about a store exchange that got no complete answer (net/transport-error.ts), in the same
 * words for etcd, Consul and Vault.
 */
import { isCertificateError } from '../../domain/network-failure.js';
import type { HttpTransportError } from '../../net/transport-error.js';

const NOT_TLS = /wrong version number|packet length too long|EPROTO/i;

/** How a hint names the server: `Consul`, where it was sought, and the URL scheme for plain HTTP. */
export interface ServerNaming {
  server: string;
  /** `http://127.0.0.1:8500`, or several such joined with ", ". */
  address: string;
  plainScheme: string;
}

/** What a user can do about a failed exchange. */
export function transportHint(error: HttpTransportError, naming: ServerNaming): string {
  const { server, address, plainScheme } = naming;
  if (isCertificateError(error.code)) {
    return (
      `${server}'s TLS certificate is not trusted: give the CA that signed it with --ca-bundle FILE, set ?servername=NAME ` +
      'when the certificate names another host, or (for a test server only) ?tls_verify=false'
    );
  }
  if (NOT_TLS.test(`${error.code ?? ''} ${error.message}`)) {
    return `the server does not speak TLS there: write ${plainScheme}:// for plain HTTP, or check the port`;
  }
  switch (error.kind) {
    case 'timeout':
      return `check that ${server} at ${address} is reachable and not overloaded, or allow more time with ?timeout=MILLISECONDS`;
    case 'too-large':
      return `no answer of ${server} to acmectl is that large: check that the store URL points at ${server}`;
    default:
      return `check that ${server} is running and reachable at ${address}, or fix the --store URL`;
  }
}
