import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dnsResolver } from './name-addresses.js';
import { fetchToken } from './token-fetch.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const at = { address: '127.0.0.1', family: 4 as const };
const resolve = dnsResolver(new Map(), 1000);

describe('fetchToken', () => {
  it('asks the address with the Host header of the name, and follows a redirect on the same host', async () => {
    const hosts: string[] = [];
    const port = await serve((request, response) => {
      hosts.push(request.headers.host ?? '');
      if (request.url === '/.well-known/acme-challenge/t') response.writeHead(302, { location: '/moved/t' }).end();
      else response.writeHead(200).end('content');
    });
    const fetched = await fetchToken({ name: 'www.example', at, port, path: '/.well-known/acme-challenge/t', timeoutMs: 2000, resolve });
    expect(fetched).toEqual({ kind: 'answered', status: 200, body: 'content', url: `http://www.example:${port}/moved/t`, redirects: 1 });
    expect(hosts).toEqual([`www.example:${port}`, `www.example:${port}`]);
  });

  it('does not follow a redirect to a port a CA would not use', async () => {
    const port = await serve((_request, response) => response.writeHead(301, { location: 'http://www.example:8443/x' }).end());
    const fetched = await fetchToken({ name: 'www.example', at, port, path: '/x', timeoutMs: 2000, resolve });
    expect(fetched).toMatchObject({ kind: 'no-answer', redirects: 0 });
    expect(fetched.kind === 'no-answer' && fetched.code).toMatch(/which a CA does not follow/);
  });

  it('says when nothing listens', async () => {
    const port = await serve(() => undefined);
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    expect(await fetchToken({ name: 'www.example', at, port, path: '/x', timeoutMs: 2000, resolve })).toMatchObject({ kind: 'no-answer', code: 'ECONNREFUSED' });
  });
});
