import { describe, expect, it } from 'vitest';
import { OperationError } from '../domain/errors.js';
import type { Identifier } from '../domain/identifiers.js';
import { leafWith, root } from '../../test/support/test-pki.js';
import { checkIssuedCertificate } from './leaf-check.js';

const ca = root('Test CA');
const dns = (...names: string[]): Identifier[] => names.map((value) => ({ type: 'dns', value }));
const now = new Date();

function check(pem: string, keyPem: string, identifiers: Identifier[]): unknown {
  try {
    checkIssuedCertificate(pem, { keyPem, identifiers, now });
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(OperationError);
    return (error as Error).message;
  }
}

describe('the certificate the CA sent is checked before it is stored', () => {
  it('accepts a certificate for the key and exactly the ordered names (DNS and IP, any order)', () => {
    const { pem, keyPem } = leafWith({ dns: ['a.example', 'b.example'], ip: ['127.0.0.1', '::1'], issuer: ca });
    const ordered: Identifier[] = [...dns('b.example', 'a.example'), { type: 'ip', value: '::1' }, { type: 'ip', value: '127.0.0.1' }];
    expect(check(pem, keyPem!, ordered)).toBe('ok');
  });

  it('refuses a certificate for another key', () => {
    const { pem } = leafWith({ dns: ['a.example'], issuer: ca });
    const { keyPem: otherKey } = leafWith({ dns: ['a.example'], issuer: ca });
    expect(check(pem, otherKey!, dns('a.example'))).toMatch(/is not for the key acmectl generated/);
  });

  it('refuses a certificate that leaves out an ordered name, or adds one', () => {
    const { pem, keyPem } = leafWith({ dns: ['a.example'], issuer: ca });
    expect(check(pem, keyPem!, dns('a.example', 'b.example'))).toMatch(/does not cover b\.example/);
    const wider = leafWith({ dns: ['a.example', 'evil.example'], issuer: ca });
    expect(check(wider.pem, wider.keyPem!, dns('a.example'))).toMatch(/also names evil\.example, which were not ordered/);
  });

  it('refuses a certificate that has expired, or is valid only in the future', () => {
    const expired = leafWith({ dns: ['a.example'], issuer: ca, notBefore: new Date(Date.now() - 2 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    expect(check(expired.pem, expired.keyPem!, dns('a.example'))).toMatch(/expired already/);
    const future = leafWith({ dns: ['a.example'], issuer: ca, notBefore: new Date(Date.now() + 86_400_000), notAfter: new Date(Date.now() + 2 * 86_400_000) });
    expect(check(future.pem, future.keyPem!, dns('a.example'))).toMatch(/is valid only from .*check this machine's clock/);
  });
});
