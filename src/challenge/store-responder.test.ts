import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import type { Store } from '../store/store.js';
import { challengeKey, StorePublishingSolver } from './store-published.js';
import { storeResponder } from './store-responder.js';
import type { ServedRequest } from './store-responder.js';

let port: number;
const served: ServedRequest[] = [];
const store = new MemoryStore();
const server = createServer(storeResponder(store, (r) => served.push(r)));

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  await store.put(challengeKey('tok-1'), Buffer.from('tok-1.thumbprint'), { ttlMs: 60_000 });
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function call(path: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: body ? { 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the acmectl serve responder', () => {
  it('answers a published token with its key authorization, GET and HEAD', async () => {
    expect(await call('/.well-known/acme-challenge/tok-1')).toEqual({ status: 200, body: 'tok-1.thumbprint' });
    expect(await call('/.well-known/acme-challenge/tok-1', 'HEAD')).toEqual({ status: 200, body: '' });
  });
  it.each([
    ['/.well-known/acme-challenge/unknown', 'GET'],
    ['/.well-known/acme-challenge/tok-1', 'POST'],
    ['/.well-known/acme-challenge/tok-1', 'DELETE'],
    ['/.well-known/acme-challenge/../../etc/passwd', 'GET'],
    ['/.well-known/acme-challenge/tok*', 'GET'],
    ['/.well-known/acme-challenge/', 'GET'],
    ['/', 'GET'],
    ['/index.html', 'GET'],
  ])('serves nothing else: %s %s → 404', async (path, method) => {
    expect((await call(path, method)).status).toBe(404);
  });
  it('refuses request bodies', async () => {
    expect((await call('/.well-known/acme-challenge/tok-1', 'GET', 'x'.repeat(100))).status).toBe(413);
  });
  it('logs one line of facts per request', async () => {
    served.length = 0;
    await call('/.well-known/acme-challenge/tok-1');
    expect(served).toEqual([expect.objectContaining({ method: 'GET', path: '/.well-known/acme-challenge/tok-1', status: 200, remote: '127.0.0.1' })]);
  });
  it('says 503 when the store cannot be read', async () => {
    const broken = { get: async () => Promise.reject(new Error('down')) } as unknown as Store;
    const handler = storeResponder(broken, () => {});
    const other = createServer(handler);
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherPort = (other.address() as AddressInfo).port;
    const status = await new Promise<number>((resolve) => request({ host: '127.0.0.1', port: otherPort, path: '/.well-known/acme-challenge/tok-1' }, (res) => resolve(res.statusCode ?? 0)).end());
    expect(status).toBe(503);
    await new Promise((resolve) => other.close(resolve));
  });
});

describe('StorePublishingSolver', () => {
  it('publishes the answer with a one-hour TTL, hands it to the local solver, and removes both afterwards', async () => {
    const shared = new MemoryStore();
    const presented: string[] = [];
    const inner = {
      description: 'local',
      present: async (c: { token: string }) => void presented.push(c.token),
      cleanUp: async (c: { token: string }) => void presented.splice(presented.indexOf(c.token), 1),
      close: async () => {},
    };
    const solver = new StorePublishingSolver(shared, inner);
    const challenge = { identifier: 'a.example.com', token: 'tok-2', keyAuthorization: 'tok-2.thumb' };
    const before = Date.now();
    await solver.present(challenge);
    const entry = await shared.get(challengeKey('tok-2'));
    expect(Buffer.from(entry!.value).toString()).toBe('tok-2.thumb');
    expect(entry!.expiresAt! - before).toBeGreaterThanOrEqual(3_600_000 - 1000);
    expect(entry!.expiresAt! - before).toBeLessThanOrEqual(3_600_000 + 1000);
    expect(presented).toEqual(['tok-2']);
    await solver.cleanUp(challenge);
    expect(await shared.get(challengeKey('tok-2'))).toBeNull();
    expect(presented).toEqual([]);
  });
  it('with no local solver (--challenge store), only publishes', async () => {
    const shared = new MemoryStore();
    const solver = new StorePublishingSolver(shared, null);
    await solver.present({ identifier: 'b.example.com', token: 'tok-3', keyAuthorization: 'k' });
    expect(await shared.get(challengeKey('tok-3'))).not.toBeNull();
  });
});
