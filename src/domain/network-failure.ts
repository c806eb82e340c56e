/**
 * Words for the network failures users meet most, shared by the CA client and every network store, so that
 * "connection refused" or an untrusted certificate reads the same whichever server it came from.
 */

/** True for Node's error codes that mean the server's TLS certificate was not accepted. */
export function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET|ERR_TLS|HOSTNAME/.test(code);
}

/** A short phrase for a socket error code, or undefined when there is none better than the error's message. */
export function describeSocketError(code: string | undefined): string | undefined {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'its host name does not resolve';
    case 'ECONNRESET':
      return 'the connection was reset';
    default:
      return undefined;
  }
}
