import { describe, expect, it } from 'vitest';
import { describeSocketError, isCertificateError } from './network-failure.js';

describe('network failures', () => {
  it.each(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID'])(
    '%s is a certificate problem',
    (code) => expect(isCertificateError(code)).toBe(true),
  );
  it.each([undefined, 'ECONNREFUSED', 'EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ETIMEDOUT'])('%s is not', (code) => expect(isCertificateError(code)).toBe(false));
  it('names the common socket errors and leaves the rest to the message', () => {
    expect(describeSocketError('ECONNREFUSED')).toBe('connection refused');
    expect(describeSocketError('EAI_AGAIN')).toBe('its host name does not resolve');
    expect(describeSocketError('ECONNRESET')).toBe('the connection was reset');
    expect(describeSocketError('EPIPE')).toBeUndefined();
  });
});
