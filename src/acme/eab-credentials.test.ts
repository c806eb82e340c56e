import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationError, UsageError } from '../domain/errors.js';
import { checkEabEndpoint, requestEabCredentials } from './eab-credentials.js';

// Answers by path: each path is one way an endpoint can answer.
const ANSWERS: Record<string, string> = {
  '/ok': JSON.stringify({ success: true, eab_kid: 'kid_123-x', eab_hmac_key: 'c2VjcmV0LWhtYWMta2V5LWJ5dGVzLTEyMzQ1Njc4OTA' }),
  '/html': '<html>maintenance</html>',
  '/bad-kid': JSON.stringify({ success: true, eab_kid: 'kid with spaces/..', eab_hmac_key: 'c2VjcmV0LWhtYWMta2V5LWJ5dGVz' }),
  '/refused': JSON.stringify({ success: false, error: { code: 2833, type: 'invalid_email', info: 'bad \u202e address' } }),
  '/huge': JSON.stringify({ success: true, padding: 'x'.repeat(200_000) }),
};
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' });
    if (request.url === '/trickle') {
      const timer = setInterval(() => response.write(' '), 100);
      response.on('close', () => clearInterval(timer));
      return;
    }
    response.end(ANSWERS[request.url ?? ''] ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));

const ask = (path: string) => requestEabCredentials({ endpoint: `${base}${path}`, email: 'ops@example.com', timeoutMs: 5000 });

describe('EAB credentials from an endpoint', () => {
  it('returns the key id and HMAC key of a successful answer', async () => {
    expect(await ask('/ok')).toEqual({ kid: 'kid_123-x', hmacKey: 'c2VjcmV0LWhtYWMta2V5LWJ5dGVzLTEyMzQ1Njc4OTA' });
  });
  it('refuses what is not such an answer, without repeating a secret', async () => {
    await expect(ask('/html')).rejects.toThrow(/something other than JSON/);
    await expect(ask('/bad-kid')).rejects.toThrow(/unexpected form/);
    await expect(ask('/huge')).rejects.toThrow(/more than 64 KiB/);
  });
  it('gives up on an answer that trickles a byte at a time, at the deadline of the whole exchange', async () => {
    const trickled = requestEabCredentials({ endpoint: `${base}/trickle`, email: 'ops@example.com', timeoutMs: 1000 });
    await expect(trickled).rejects.toThrow(`${base}/trickle did not answer within 1 s`);
  });
  it("says the endpoint's reason, with control and bidi characters made harmless", async () => {
    const error = await ask('/refused').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toBe(`${base}/refused gave no EAB credentials for ops@example.com: invalid_email: bad \\u{202e} address`);
  });
  it('accepts https anywhere and plain http only on this machine', () => {
    expect(checkEabEndpoint('https://api.zerossl.com/acme/eab-credentials-email')).toBe('https://api.zerossl.com/acme/eab-credentials-email');
    expect(checkEabEndpoint('http://127.0.0.1:8080/x')).toBe('http://127.0.0.1:8080/x');
    expect(() => checkEabEndpoint('http://api.example.com/x')).toThrow(UsageError);
    expect(() => checkEabEndpoint('not a url')).toThrow(UsageError);
  });
});
