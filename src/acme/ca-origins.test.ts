import { describe, expect, it } from 'vitest';
import { allowedOrigins, checkOnCaOrigin } from './ca-origins.js';

describe('the origins a CA may send acmectl to', () => {
  const origins = allowedOrigins('https://acme.example/directory', {
    newNonce: 'https://acme.example/nonce',
    newAccount: 'https://acme.example/account',
    newOrder: 'https://orders.acme.example:8443/new',
    renewalInfo: 'https://ari.acme.example/renewal-info',
  });

  it('are the directory\'s and those of the endpoints it names', () => {
    expect([...origins].sort()).toEqual(['https://acme.example', 'https://ari.acme.example', 'https://orders.acme.example:8443']);
    for (const url of ['https://acme.example/authz/1', 'https://orders.acme.example:8443/order/1', 'https://ARI.acme.example/x']) expect(() => checkOnCaOrigin(url, origins)).not.toThrow();
  });

  it.each([
    ['another host', 'https://evil.example/authz/1'],
    ['another port', 'https://acme.example:8443/authz/1'],
    ['another scheme', 'http://acme.example/authz/1'],
    ['a subdomain not named', 'https://www.acme.example/authz/1'],
    ['no URL at all', 'not a url'],
  ])('refuse %s', (_what, url) => {
    expect(() => checkOnCaOrigin(url, origins)).toThrow(`the CA sent a URL on another host: ${url}; not following it`);
  });

  it('show a URL with its control characters made visible', () => {
    expect(() => checkOnCaOrigin('https://evil.example/\u001b]52;c;eA==\u0007', origins)).toThrow('the CA sent a URL on another host: https://evil.example/\\u{001b}]52;c;eA==\\u{0007}; not following it');
  });
});
