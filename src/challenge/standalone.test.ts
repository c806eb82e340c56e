import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OperationError } from '../domain/errors.js';
import { StandaloneSolver } from './standalone.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function fetchPath(port: number, path: string, method = 'GET', host = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const challenge = { identifier: 'a.example.com', token: 'tok-A_1', keyAuthorization: 'tok-A_1.thumb' };

describe('StandaloneSolver', () => {
  let solver: StandaloneSolver | undefined;
  afterEach(async () => solver?.close());

  it('answers its tokens with the exact key authorization and 404 for anything else', async () => {
    const port = await freePort();
    solver = new StandaloneSolver({ port, addresses: ['127.0.0.1'] });
    await solver.present(challenge);
    expect(await fetchPath(port, '/.well-known/acme-challenge/tok-A_1')).toEqual({ status: 200, body: 'tok-A_1.thumb' });
    expect((await fetchPath(port, '/.well-known/acme-challenge/tok-A_1', 'HEAD')).status).toBe(200);
    expect((await fetchPath(port, '/.well-known/acme-challenge/other')).status).toBe(404);
    expect((await fetchPath(port, '/.well-known/acme-challenge/tok-A_1', 'POST')).status).toBe(404);
    expect((await fetchPath(port, '/.well-known/acme-challenge/../tok-A_1')).status).toBe(404);
    expect((await fetchPath(port, '/')).status).toBe(404);
  });

  it('listens only while challenges are presented', async () => {
    const port = await freePort();
    solver = new StandaloneSolver({ port, addresses: ['127.0.0.1'] });
    await expect(fetchPath(port, '/')).rejects.toThrow(/ECONNREFUSED/);
    const second = { ...challenge, token: 'tok-B' };
    await Promise.all([solver.present(challenge), solver.present(second)]);
    await solver.cleanUp(challenge);
    expect((await fetchPath(port, '/.well-known/acme-challenge/tok-B')).status).toBe(200);
    await solver.cleanUp(second);
    await expect(fetchPath(port, '/')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('shares one listener between concurrent orders: a new order arriving while the last one closes is served', async () => {
    const port = await freePort();
    solver = new StandaloneSolver({ port, addresses: ['127.0.0.1'] });
    for (let round = 0; round < 30; round++) {
      const first = { ...challenge, token: `first-${round}` };
      const next = { ...challenge, token: `next-${round}` };
      await solver.present(first);
      // cleanUp starts closing the listener; present() of another order comes in at once.
      await Promise.all([solver.cleanUp(first), solver.present(next)]);
      expect((await fetchPath(port, `/.well-known/acme-challenge/next-${round}`)).status).toBe(200);
      await solver.cleanUp(next);
    }
  });

  it('listens on IPv4 and IPv6 when no address is given', async () => {
    const port = await freePort();
    solver = new StandaloneSolver({ port });
    await solver.present(challenge);
    expect((await fetchPath(port, '/.well-known/acme-challenge/tok-A_1', 'GET', '127.0.0.1')).status).toBe(200);
    expect((await fetchPath(port, '/.well-known/acme-challenge/tok-A_1', 'GET', '::1')).status).toBe(200);
  });

  it('explains a port that is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      solver = new StandaloneSolver({ port, addresses: ['127.0.0.1'] });
      const error = await solver.present(challenge).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OperationError);
      expect((error as Error).message).toBe(`port ${port} is already in use by another process on 127.0.0.1`);
      expect((error as OperationError).hint).toMatch(/--pre-hook.*--webroot DIR.*acmectl serve/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
