import { describe, expect, it } from 'vitest';
import { orderDirectory } from './order-directory.js';

describe('the directory an order goes to', () => {
  const letsencrypt = 'https://acme-v02.api.letsencrypt.org/directory';

  it('is the CA itself for a real order', () => {
    expect(orderDirectory(letsencrypt, false)).toBe(letsencrypt);
    expect(orderDirectory('https://ca.internal/dir', false)).toBe('https://ca.internal/dir');
  });
  it("is the CA's staging directory for a dry run", () => {
    expect(orderDirectory(letsencrypt, true)).toBe('https://acme-staging-v02.api.letsencrypt.org/directory');
    expect(orderDirectory('https://api.buypass.com/acme/directory', true)).toBe('https://api.test4.buypass.no/acme/directory');
  });
  it('is the CA itself for a dry run when it has no staging directory', () => {
    expect(orderDirectory('https://acme.zerossl.com/v2/DV90', true)).toBe('https://acme.zerossl.com/v2/DV90');
    expect(orderDirectory('http://127.0.0.1:14000/dir', true)).toBe('http://127.0.0.1:14000/dir');
  });
  it('stays on staging for a dry run against a staging directory', () => {
    const staging = 'https://acme-staging-v02.api.letsencrypt.org/directory';
    expect(orderDirectory(staging, true)).toBe(staging);
  });
});
