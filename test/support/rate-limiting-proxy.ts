import { readFileSync } from 'node:fs';
import { Agent, createServer, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';

/**
 * A STAND-IN for a CA's rate limiter, in front of a real Pebble (which cannot be told to answer 429): an HTTPS
 * server on a free loopback port, with Pebble's own localhost certificate and key (so the client trusts it with
 * pebble.caBundlePath), that forwards every request to Pebble as it came, the Host header included. Pebble builds
 * its URLs (directory, nonces, orders, authorizations) from the Host it receives and checks each JWS `url`
 * against it, so the client keeps talking to the proxy without anything being rewritten.
 *
 * Requests chosen with `refuseNext` it answers itself, the way a CA's rate limit does: 429 (or another status), a
 * Retry-After header, a fresh Replay-Nonce obtained from Pebble (so that a client which takes the next nonce from
 * the answer still has a good one), and a rateLimited problem document. The refused request never reaches Pebble.
 */
export interface RateLimitingProxy {
  /** The directory URL to give acmectl: Pebble's, on the proxy's port. */
  directoryUrl: string;
  /** Every request seen, in order: method, path, and whether the proxy answered it itself. */
  requests: { method: string; path: string; refused: boolean }[];
  /** How many requests with this method and path the proxy saw (refused or forwarded). */
  count(method: string, path: string): number;
  /** The next `count` (default 1) POSTs to `path` are refused. */
  refuseNext(path: string, refusal: Refusal & { count?: number }): void;
  stop(): Promise<void>;
}

export interface Refusal {
  /** The Retry-After header, as sent (seconds or an HTTP date); none when absent. */
  retryAfter?: string;
  /** Default 429. */
  status?: number;
  detail?: string;
}

export async function startRateLimitingProxy(pebble: PebbleHandle): Promise<RateLimitingProxy> {
  const upstream = new URL(pebble.directoryUrl);
  const ca = readFileSync(pebble.caBundlePath);
  const agent = new Agent({ keepAlive: true, ca });
  const requests: RateLimitingProxy['requests'] = [];
  const refusals: { path: string; refusal: Refusal }[] = [];

  /** A request to Pebble with the client's own method, path and headers (Host included). */
  const forward = (method: string, path: string, headers: IncomingHttpHeaders, body: IncomingMessage | null): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const outgoing = httpsRequest({ host: '127.0.0.1', port: upstream.port, servername: 'localhost', method, path, headers, agent }, resolve);
      outgoing.on('error', reject);
      if (body) body.pipe(outgoing);
      else outgoing.end();
    });

  const refuse = async (incoming: IncomingMessage, response: ServerResponse, refusal: Refusal): Promise<void> => {
    incoming.resume();
    // Pebble's newNonce (/nonce-plz), asked under the client's Host: a nonce Pebble accepts on the next request.
    const nonceAnswer = await forward('HEAD', '/nonce-plz', { host: incoming.headers.host }, null);
    nonceAnswer.resume();
    const nonce = nonceAnswer.headers['replay-nonce'];
    response.writeHead(refusal.status ?? 429, {
      'content-type': 'application/problem+json',
      ...(typeof nonce === 'string' ? { 'replay-nonce': nonce } : {}),
      ...(refusal.retryAfter === undefined ? {} : { 'retry-after': refusal.retryAfter }),
    });
    response.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: refusal.detail ?? 'too many new orders recently (rate-limiting stand-in)', status: refusal.status ?? 429 }));
  };

  const server = createServer({ cert: readFileSync(join(pebble.dir, 'localhost-cert.pem')), key: readFileSync(join(pebble.dir, 'localhost-key.pem')) }, (incoming, response) => {
    const method = incoming.method ?? 'GET';
    const path = incoming.url ?? '/';
    const index = method === 'POST' ? refusals.findIndex((r) => r.path === path) : -1;
    requests.push({ method, path, refused: index >= 0 });
    const done = (error: unknown): void => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`rate-limiting stand-in: ${error instanceof Error ? error.message : String(error)}`);
    };
    if (index >= 0) {
      const { refusal } = refusals.splice(index, 1)[0]!;
      refuse(incoming, response, refusal).catch(done);
      return;
    }
    forward(method, path, incoming.headers, incoming).then((answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    }, done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    directoryUrl: `https://localhost:${port}${upstream.pathname}`,
    requests,
    count: (method, path) => requests.filter((r) => r.method === method && r.path === path).length,
    refuseNext: (path, { count = 1, ...refusal }) => {
      for (let i = 0; i < count; i++) refusals.push({ path, refusal });
    },
    stop: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
