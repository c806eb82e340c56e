import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLocalhostCertificates } from '../../scripts/lib/pebble.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { AbortedError, OperationError } from '../domain/errors.js';
import { CaUnreachableError, loadAcmeClient, MAX_ANSWER_BYTES, trustForOrigin } from './transport.js';

// Two HTTPS servers on loopback, each with its own private CA: what a renew run over certificates from two
// private CAs talks to. A bundle trusted for one must never make the other's certificate trusted.
interface PrivateServer {
  url: string;
  caPem: string;
  server: Server;
}
/** Requests to /hang, which are never answered. */
const hanging: IncomingMessage[] = [];
let first: PrivateServer;
let second: PrivateServer;

async function startPrivateServer(name: string): Promise<PrivateServer> {
  const dir = tempDir(`transport-${name}`);
  const { caCertPath, serverCertPath, serverKeyPath } = await generateLocalhostCertificates(dir);
  const server = createServer({ cert: readFileSync(serverCertPath), key: readFileSync(serverKeyPath) }, (request, response) => {
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
  const acme = await loadAcmeClient({ requestTimeoutMs: 5000 });
  try {
    return (await acme.axios.get(url, { validateStatus: () => true })).status;
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
    const acme = await loadAcmeClient({ requestTimeoutMs: 1000 });
    const trickle = new URL('/trickle', first.url).href;
    const error = await acme.axios.get(trickle).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaUnreachableError);
    expect((error as Error).message).toBe(`could not reach the CA at ${trickle}: no answer within 1 s`);
  });
});

// Last in this file: the signal of a process's command stays in force for every later request.
describe('the command\'s signal', () => {
  it('abandons a request in flight at once, and refuses to start another', async () => {
    trustForOrigin(first.url, first.caPem);
    const command = new AbortController();
    const acme = await loadAcmeClient({ requestTimeoutMs: 600_000, signal: command.signal });
    const hang = new URL('/hang', first.url).href;
    const asked = hanging.length;
    const request = acme.axios.get(hang).catch((e: unknown) => e);
    while (hanging.length === asked) await new Promise((resolve) => setTimeout(resolve, 10));
    command.abort(new AbortedError('interrupted by SIGTERM'));
    const error = await request;
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).message).toBe(`interrupted by SIGTERM while waiting for ${hang}`);
    const next = await acme.axios.get(first.url).catch((e: unknown) => e);
    expect((next as Error).message).toBe(`interrupted by SIGTERM before asking ${first.url}`);
  });
});
