import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateLocalhostCertificates } from '../../scripts/lib/pebble.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { AbortedError } from '../domain/errors.js';
import { Secrets } from './error-text.js';
import { HttpClient, type HttpClientOptions, type HttpRequest } from './http-client.js';
import { HttpTransportError } from './transport-error.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface TestServer {
  port: number;
  /** Connections the server has accepted so far. */
  connections: number;
}

const servers: Server[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: Server): Promise<TestServer> {
  const state = { port: 0, connections: 0 };
  server.on('connection', () => (state.connections += 1));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as { port: number }).port;
  return state;
}

const serve = (handler: Handler): Promise<TestServer> => listen(createHttpServer(handler));

function client(options: Partial<HttpClientOptions> = {}): HttpClient {
  const made = new HttpClient({ protocol: 'http', trust: { tlsVerify: true }, timeoutMs: 5_000, ...options });
  clients.push(made);
  return made;
}

const get = (server: TestServer, extra: Partial<HttpRequest> = {}): HttpRequest => ({
  host: '127.0.0.1',
  port: server.port,
  method: 'GET',
  path: '/',
  ...extra,
});

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => new Error('expected the request to fail'),
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error) || outcome.message === 'expected the request to fail') throw outcome;
  return outcome;
}

describe('the HTTP client: one deadline for the whole exchange', () => {
  it('a server that sends the headers and then trickles the body forever fails at the deadline', async () => {
    const trickles = new Set<NodeJS.Timeout>();
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => response.write(' '), 20);
      trickles.add(timer);
      response.on('close', () => clearInterval(timer));
    });
    try {
      const error = await failureOf(client({ timeoutMs: 300 }).request(get(server)));
      expect(error).toBeInstanceOf(HttpTransportError);
      expect((error as HttpTransportError).kind).toBe('timeout');
      expect(error.message).toBe('no answer within 300 ms');
      expect((error as HttpTransportError).code).toBe('ETIMEDOUT');
    } finally {
      for (const timer of trickles) clearInterval(timer);
    }
  });

  it('a server that accepts the connection and never answers fails at the deadline', async () => {
    const server = await serve(() => undefined);
    const error = await failureOf(client({ timeoutMs: 300 }).request(get(server)));
    expect((error as HttpTransportError).kind).toBe('timeout');
  });

  it('a request may bring a deadline of its own instead of the client\'s', async () => {
    const server = await serve(() => undefined);
    const error = await failureOf(client({ timeoutMs: 60_000 }).request({ ...get(server), timeoutMs: 300 }));
    expect((error as HttpTransportError).kind).toBe('timeout');
    expect(error.message).toBe('no answer within 300 ms');
  });
});

describe('the HTTP client: the answer cap', () => {
  it('refuses an answer whose declared length is over the cap', async () => {
    const server = await serve((_request, response) => response.end(Buffer.alloc(2_000)));
    const error = await failureOf(client().request(get(server, { maxAnswerBytes: 1_000 })));
    expect((error as HttpTransportError).kind).toBe('too-large');
    expect(error.message).toBe('the answer is larger than 1000 bytes');
  });

  it('stops reading an endless answer at the cap (1 MiB unless the request allows more), long before the deadline', async () => {
    const server = await serve((_request, response) => {
      // No content-length: chunked, and it never ends.
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (response.write(chunk));
        response.once('drain', pump);
      };
      pump();
    });
    const error = await failureOf(client({ timeoutMs: 60_000 }).request(get(server)));
    expect((error as HttpTransportError).kind).toBe('too-large');
    expect(error.message).toBe(`the answer is larger than ${1024 * 1024} bytes`);
  });

  it('reads an answer up to the cap the request allows', async () => {
    const server = await serve((_request, response) => {
      response.write(Buffer.alloc(600, 'a'));
      response.end(Buffer.alloc(600, 'b'));
    });
    const answer = await client().request(get(server, { maxAnswerBytes: 1_200 }));
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('a'.repeat(600) + 'b'.repeat(600));
  });
});

describe('the HTTP client: kept-alive connections', () => {
  it('sends sequential requests over one connection', async () => {
    const server = await serve((request, response) => response.end(request.url));
    const http = client();
    for (const path of ['/one', '/two', '/three']) expect((await http.request(get(server, { path }))).body.toString()).toBe(path);
    expect(server.connections).toBe(1);
  });

  /** Answers the first request of each connection; a later request on the same connection kills it unanswered. */
  async function serverClosingKeptAliveConnections(): Promise<TestServer & { requests: string[] }> {
    const requests: string[] = [];
    const served = new WeakMap<Socket, number>();
    const server = await serve((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      const count = (served.get(request.socket) ?? 0) + 1;
      served.set(request.socket, count);
      if (count > 1) request.socket.destroy();
      else response.end('ok');
    });
    return Object.assign(server, { requests });
  }

  it('sends a GET that meets a dead kept-alive connection once more, on a fresh connection', async () => {
    const server = await serverClosingKeptAliveConnections();
    const http = client();
    await http.request(get(server, { path: '/first' }));
    const answer = await http.request(get(server, { path: '/second' }));
    expect(answer.body.toString()).toBe('ok');
    expect(server.requests).toEqual(['GET /first', 'GET /second', 'GET /second']);
    expect(server.connections).toBe(2);
  });

  it('does not send a write again unless the caller says it may run twice', async () => {
    const server = await serverClosingKeptAliveConnections();
    const http = client();
    await http.request(get(server));
    const error = await failureOf(http.request(get(server, { method: 'POST', path: '/cas', body: '{}' })));
    expect((error as HttpTransportError).kind).toBe('dead-socket');
    expect(server.requests).toEqual(['GET /', 'POST /cas']);

    await http.request(get(server)); // a fresh connection, kept alive
    await http.request(get(server, { method: 'PUT', path: '/same-value', body: '{}', idempotent: true }));
    expect(server.requests.slice(2)).toEqual(['GET /', 'PUT /same-value', 'PUT /same-value']);
  });

  it('tries again only once', async () => {
    // Every request after a connection's first is killed, and so is every first request but the very first.
    const requests: string[] = [];
    const server = await serve((request, response) => {
      requests.push(request.url ?? '');
      if (requests.length > 1) request.socket.destroy();
      else response.end('ok');
    });
    const http = client();
    await http.request(get(server));
    const error = await failureOf(http.request(get(server, { path: '/again' })));
    expect(error).toBeInstanceOf(HttpTransportError);
    expect(requests).toEqual(['/', '/again', '/again']);
  });
});

describe('the HTTP client: cancelling', () => {
  it('stops with an AbortedError when the signal is aborted mid-request', async () => {
    const server = await serve(() => undefined);
    const controller = new AbortController();
    const pending = client({ timeoutMs: 60_000 }).request(get(server, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    expect(await failureOf(pending)).toBeInstanceOf(AbortedError);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const server = await serve((_request, response) => response.end('ok'));
    const error = await failureOf(client().request(get(server, { signal: AbortSignal.abort() })));
    expect(error).toBeInstanceOf(AbortedError);
    expect(server.connections).toBe(0);
  });
});

describe('the HTTP client: errors', () => {
  it('words a refused connection plainly, says nothing was sent, and keeps the code', async () => {
    const server = await serve(() => undefined);
    const { port } = server;
    servers.pop()!.close(); // now nothing listens there
    const error = (await failureOf(client().request(get({ port, connections: 0 })))) as HttpTransportError;
    expect(error.message).toMatch(/^connection refused \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/);
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.sent).toBe(false);
  });

  it('holds none of the secrets it was given, in its message or its cause, even where Node’s own message would', async () => {
    const server = await serve(() => undefined);
    const { port } = server;
    servers.pop()!.close();
    const secrets = new Secrets();
    secrets.add('127.0.0.1'); // Node's ECONNREFUSED message names the address: here it stands for a secret
    const error = await failureOf(client({ secrets }).request(get({ port, connections: 0 })));
    const shown = [error.message, String(error.cause), inspect(error, { depth: 10 }), JSON.stringify(error.cause, Object.getOwnPropertyNames(error.cause))];
    for (const text of shown) expect(text).not.toContain('127.0.0.1');
    expect(error.message).toContain('***');
  });
});

describe('the store HTTP client over TLS', () => {
  const dir = tempDir('http-client-tls');
  let caPem: string;
  let server: TestServer;
  let https: Server;
  beforeAll(async () => {
    const { caCertPath, serverCertPath, serverKeyPath } = await generateLocalhostCertificates(dir);
    caPem = readFileSync(caCertPath, 'utf8');
    https = createHttpsServer({ cert: readFileSync(serverCertPath), key: readFileSync(serverKeyPath) }, (_request, response) => response.end('secure'));
    server = await listen(https);
    servers.splice(servers.indexOf(https), 1); // kept for the whole describe, not closed after each test
  });
  afterAll(async () => {
    https.closeAllConnections();
    await new Promise((resolve) => https.close(resolve));
  });

  const httpsClient = (trust: HttpClientOptions['trust']): HttpClient => client({ protocol: 'https', trust });

  it('refuses a server whose CA is not trusted, saying so', async () => {
    const error = (await failureOf(httpsClient({ tlsVerify: true }).request(get(server)))) as HttpTransportError;
    expect(error.message).toMatch(/^its TLS certificate is not accepted \(/);
    expect(error.kind).toBe('network');
  });

  it('trusts it with the --ca-bundle, which adds to the system roots', async () => {
    const answer = await httpsClient({ tlsVerify: true, caBundlePem: caPem }).request(get(server));
    expect(answer.body.toString()).toBe('secure');
  });

  it('trusts a private CA\'s server with the bundle alone: one connection, kept alive, no second try', async () => {
    const bundled = httpsClient({ tlsVerify: true, caBundlePem: caPem });
    const before = server.connections;
    expect((await bundled.request(get(server))).body.toString()).toBe('secure');
    expect((await bundled.request(get(server))).body.toString()).toBe('secure');
    expect(server.connections - before).toBe(1);
  });

  it('tries a server the bundle does not vouch for once more with the system roots too, and keeps that trust', async () => {
    const otherCaPem = readFileSync((await generateLocalhostCertificates(tempDir('http-client-tls-other'))).caCertPath, 'utf8');
    const bundled = httpsClient({ tlsVerify: true, caBundlePem: otherCaPem });
    const before = server.connections;
    const error = (await failureOf(bundled.request(get(server)))) as HttpTransportError;
    expect(error.message).toMatch(/^its TLS certificate is not accepted \(/);
    expect(server.connections - before).toBe(2); // the bundle alone, then the roots and the bundle
    await failureOf(bundled.request(get(server)));
    expect(server.connections - before).toBe(3); // the wider trust is kept: one try only
  });

  it('checks the certificate against ?servername= when given', async () => {
    const error = await failureOf(httpsClient({ tlsVerify: true, caBundlePem: caPem, servername: 'not-localhost.example' }).request(get(server)));
    expect(error.message).toMatch(/not-localhost\.example/);
    const answer = await httpsClient({ tlsVerify: true, caBundlePem: caPem, servername: 'localhost' }).request(get(server));
    expect(answer.body.toString()).toBe('secure');
  });
});
