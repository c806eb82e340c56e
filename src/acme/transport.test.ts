import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLocalhostCertificates } from '../../scripts/lib/pebble.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { AbortedError, OperationError } from '../domain/errors.js';
import { caRequest, CaUnreachableError, MAX_ANSWER_BYTES, trustForOrigin, unauthenticatedGet } from './transport.js';

// Two HTTPS servers on loopback, each with its own private CA: what a renew run over certificates from two
// private CAs talks to. A bundle trusted for one must never make the other's certificate trusted.
interface PrivateServer {
  url: string;
  caPem: string;
  server: Server;
}
/** Requests to /hang, which are never answered. */
const hanging: IncomingMessage[] = [];
/** How many requests each path got. */
const asked = new Map<string, number>();
let first: PrivateServer;
let second: PrivateServer;

async function startPrivateServer(name: string): Promise<PrivateServer> {
  const dir = tempDir(`transport-${name}`);
  const { caCertPath, serverCertPath, serverKeyPath } = await generateLocalhostCertificates(dir);
  const server = createServer({ cert: readFileSync(serverCertPath), key: readFileSync(serverKeyPath) }, (request, response) => {
    const path = request.url ?? '';
    asked.set(path, (asked.get(path) ?? 0) + 1);
    const count = asked.get(path)!;
    if (path === '/headers') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(request.headers));
      return;
    }
    // Server errors with a short Retry-After (0 s, so that the test does not wait): twice, then an answer.
    if (path === '/flaky' || path === '/broken') {
      const fine = path === '/flaky' && count > 2;
      response.writeHead(fine ? 200 : 500, { 'content-type': 'application/json', 'retry-after': '0' });
      response.end(JSON.stringify({ count }));
      return;
    }
    if (path === '/limited' || path === '/later') {
      response.writeHead(path === '/limited' ? 429 : 503, { 'content-type': 'application/problem+json', 'retry-after': '3600' });
      response.end('{"type":"urn:ietf:params:acme:error:rateLimited"}');
      return;
    }
    if (request.url === '/trickle') {
      // The headers, then a byte now and then, forever: each byte resets a socket's idle timeout.
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{');
      const timer = setInterval(() => response.write(' '), 200);
      response.on('close', () => clearInterval(timer));
      return;
    }
    if (request.url === '/hang') {
      hanging.push(request);
      return;
    }
    if (request.url === '/big') {
      // Past the cap, without saying its length up front.
      response.writeHead(200, { 'content-type': 'application/pem-certificate-chain' });
      response.end('x'.repeat(MAX_ANSWER_BYTES + 1));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `https://localhost:${(server.address() as { port: number }).port}/dir`, caPem: readFileSync(caCertPath, 'utf8'), server };
}

beforeAll(async () => {
  [first, second] = await Promise.all([startPrivateServer('first'), startPrivateServer('second')]);
});
afterAll(async () => {
  for (const s of [first, second]) if (s) s.server.closeAllConnections();
  for (const s of [first, second]) if (s) await new Promise((resolve) => s.server.close(resolve));
});

async function get(url: string): Promise<unknown> {
  try {
    return (await caRequest(url, { method: 'GET' }, { requestTimeoutMs: 5000 })).status;
  } catch (error) {
    return error;
  }
}

describe('trust per CA origin', () => {
  it('trusts a private CA only for the origin it was given for', async () => {
    expect(await get(first.url)).toBeInstanceOf(CaUnreachableError);

    trustForOrigin(first.url, first.caPem);
    expect(await get(first.url)).toBe(200);
    const other = await get(second.url);
    expect(other).toBeInstanceOf(CaUnreachableError);
    expect((other as Error).message).toMatch(/not trusted/);

    trustForOrigin(second.url, second.caPem);
    expect(await get(second.url)).toBe(200);
    expect(await get(first.url)).toBe(200);
  });
});

describe('answer size', () => {
  it('stops reading an answer larger than MAX_ANSWER_BYTES, saying so (not "could not reach")', async () => {
    trustForOrigin(first.url, first.caPem);
    const big = new URL('/big', first.url).href;
    const error = await get(big);
    expect(error).toBeInstanceOf(OperationError);
    expect(error).not.toBeInstanceOf(CaUnreachableError);
    expect((error as Error).message).toBe(`the CA's answer from ${big} is larger than 1024 KiB; not reading it`);
    expect(await get(first.url)).toBe(200);
  });
});

describe('the deadline of a request', () => {
  it('covers the whole answer: one that trickles a byte at a time ends after --request-timeout', async () => {
    trustForOrigin(first.url, first.caPem);
    const trickle = new URL('/trickle', first.url).href;
    const error = await caRequest(trickle, { method: 'GET' }, { requestTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaUnreachableError);
    expect((error as Error).message).toBe(`could not reach the CA at ${trickle}: no answer within 1 s`);
  });
});

describe('what every request says', () => {
  it('names acmectl in a User-Agent and asks for no compression', async () => {
    trustForOrigin(first.url, first.caPem);
    const answer = await caRequest(new URL('/headers', first.url).href, { method: 'GET' }, { requestTimeoutMs: 5000 });
    expect((answer.data as Record<string, string>)['user-agent']).toMatch(/^acmectl /);
    expect(answer.data).not.toHaveProperty('accept-encoding');
  });

  it('sends a signed request as application/jose+json and reads a JSON answer', async () => {
    const answer = await caRequest(new URL('/headers', first.url).href, { method: 'POST', body: '{}' }, { requestTimeoutMs: 5000 });
    expect(answer.data).toMatchObject({ 'content-type': 'application/jose+json', 'content-length': '2' });
  });
});

describe('unsigned requests after a server error', () => {
  const directoryGet = (path: string) => unauthenticatedGet(new URL(path, first.url).href, { requestTimeoutMs: 5000, caBundlePem: first.caPem });

  it('are asked again after a 5xx, at the CA\'s short Retry-After', async () => {
    const answer = await directoryGet('/flaky');
    expect(answer.status).toBe(200);
    expect(asked.get('/flaky')).toBe(3);
  });

  it('give the CA\'s own answer after three more tries', async () => {
    const answer = await directoryGet('/broken');
    expect(answer.status).toBe(500);
    expect(asked.get('/broken')).toBe(4);
  });

  it('are not asked again after a 429, nor after a 503 that asks for a long wait: that answer comes back at once', async () => {
    expect((await directoryGet('/limited')).status).toBe(429);
    expect((await directoryGet('/later')).status).toBe(503);
    expect([asked.get('/limited'), asked.get('/later')]).toEqual([1, 1]);
  });
});

// Last in this file: the signal of a process's command stays in force for every later request.
describe('the command\'s signal', () => {
  it('abandons a request in flight at once, and refuses to start another', async () => {
    trustForOrigin(first.url, first.caPem);
    const command = new AbortController();
    const hang = new URL('/hang', first.url).href;
    const asked = hanging.length;
    const request = caRequest(hang, { method: 'GET' }, { requestTimeoutMs: 600_000, signal: command.signal }).catch((e: unknown) => e);
    while (hanging.length === asked) await new Promise((resolve) => setTimeout(resolve, 10));
    command.abort(new AbortedError('interrupted by SIGTERM'));
    const error = await request;
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).message).toBe(`interrupted by SIGTERM while waiting for ${hang}`);
    // A later request without a signal of its own: the command's is still in force.
    const next = await caRequest(first.url, { method: 'GET' }, { requestTimeoutMs: 600_000 }).catch((e: unknown) => e);
    expect((next as Error).message).toBe(`interrupted by SIGTERM before asking ${first.url}`);
  });
});
