/**
 * `acmectl serve` under a slowloris attack: 500 connections that each send a request's headers one small piece
 * every few seconds and never finish them. A real challenge request (a token published in the shared Redis
 * store, as a node of the fleet would) is still answered, and within 1 s: the CA's validation must not wait on
 * anyone else's connections.
 */
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/pebble.js';
import { challengeKey } from '../../src/challenge/store-published.js';
import { openStore } from '../../src/store/open.js';
import { startRedis } from '../support/redis-server.js';
import type { RedisServerHandle } from '../support/redis-server.js';
import { startServe } from '../support/serve-process.js';
import { tempDir } from '../support/temp-dir.js';

const SLOW_CONNECTIONS = 500;
/** A slow client sends its next header byte this often: under serve's 5 s header deadline, so each stays open. */
const DRIP_MS = 2_000;

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => redis?.dispose());

/** Opens a connection that starts a request and then sends one byte of a header every DRIP_MS, forever. */
function slowClient(port: number, sockets: Set<net.Socket>): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.write(`GET /.well-known/acme-challenge/slow${sockets.size} HTTP/1.1\r\nHost: slow.example.test\r\nX-Slow: `);
      const timer = setInterval(() => socket.write('a'), DRIP_MS);
      socket.on('close', () => {
        clearInterval(timer);
        sockets.delete(socket);
      });
      sockets.add(socket);
      resolve();
    });
    socket.on('error', reject);
  });
}

function timedGet(url: string): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, ms: performance.now() - started }));
    }).on('error', reject);
  });
}

describe('acmectl serve with 500 slowloris connections open', () => {
  it('answers a real challenge within 1 s', { timeout: 60_000 }, async () => {
    const store = `${redis.url}?prefix=slowloris/`;
    const port = await freePort();
    const serve = await startServe(['--store', store, '--http-port', String(port), '--http-address', '127.0.0.1'], { ACMECTL_HOME: tempDir('slowloris') });
    const sockets = new Set<net.Socket>();
    try {
      const token = randomBytes(32).toString('base64url');
      const keyAuthorization = `${token}.${randomBytes(32).toString('base64url')}`;
      const published = await openStore(store);
      try {
        await published.put(challengeKey(token), Buffer.from(keyAuthorization), { ttlMs: 60_000 });
      } finally {
        await published.close();
      }

      for (let i = 0; i < SLOW_CONNECTIONS; i += 50) await Promise.all(Array.from({ length: 50 }, () => slowClient(port, sockets)));
      // Let every slow client drip at least once, so that serve is holding 500 unfinished requests.
      await new Promise((resolve) => setTimeout(resolve, DRIP_MS + 500));
      expect(sockets.size, 'the slow connections are all still open').toBe(SLOW_CONNECTIONS);

      const answer = await timedGet(`http://127.0.0.1:${port}/.well-known/acme-challenge/${token}`);
      expect(sockets.size, 'still open while the challenge was answered').toBe(SLOW_CONNECTIONS);
      expect(answer.status).toBe(200);
      expect(answer.body).toBe(keyAuthorization);
      // The requirement: a CA's validation request is answered within 1 s (the review measured 0.4 s with 3,000).
      expect(answer.ms).toBeLessThan(1_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      expect(await serve.stop()).toBe(0);
    }
  });
});
