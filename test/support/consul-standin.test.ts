/**
 * The Consul stand-in (consul-standin.ts) answers as Consul's documented HTTP API says Consul does, for the parts
 * the consul store uses. No Consul can run here, so these shapes are pinned to the documentation instead:
 *
 * - KV store endpoints (developer.hashicorp.com/consul/api-docs/kv): GET /v1/kv/:key answers a JSON array of
 *   {CreateIndex, ModifyIndex, LockIndex, Key, Flags, Value (base64), Session (only while a session holds it)},
 *   404 when no key exists; `?raw` the bare value; `?recurse` every key under the prefix; `?keys` only the key
 *   names. PUT takes the raw value as body and answers `true` or `false`: `?cas=0` puts only if the key does not
 *   exist, `?cas=N` only if N is the key's ModifyIndex; `?acquire=session` takes the lock (LockIndex + 1, Session
 *   set) unless another session holds it, `?release=session` gives it back. DELETE answers `true`/`false`, with
 *   `?cas` and `?recurse`. Values cannot be larger than 512 KB.
 * - Session endpoints (developer.hashicorp.com/consul/api-docs/session): PUT /v1/session/create takes
 *   {Name, TTL, Behavior, LockDelay} and answers {"ID": ...}; TTL must be between 10s and 86400s; Behavior is
 *   "release" (the default) or "delete"; LockDelay defaults to 15s. GET /v1/session/info/:uuid answers an array
 *   (empty once the session is gone), PUT /v1/session/renew/:uuid the renewed session in an array (404 once gone),
 *   PUT /v1/session/destroy/:uuid `true`.
 *
 * test/store/consul.test.ts checks the store against the stand-in; this checks the stand-in against the docs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsulStandin } from './consul-standin.js';
import type { ConsulStandin } from './consul-standin.js';

let consul: ConsulStandin;
beforeAll(async () => {
  consul = await startConsulStandin();
});
afterAll(async () => consul?.stop());

interface Answer {
  status: number;
  contentType: string | null;
  /** X-Consul-Index, which Consul sends with every answer of these endpoints. */
  index: string | null;
  bytes: Buffer;
  text: string;
  json: () => any;
}

async function call(method: string, path: string, body?: string | Buffer): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${consul.port}${path}`, { method, ...(body !== undefined ? { body } : {}) });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString('utf8');
  return { status: response.status, contentType: response.headers.get('content-type'), index: response.headers.get('x-consul-index'), bytes, text, json: () => JSON.parse(text) };
}

let namespace = 0;
/** A key prefix no other test uses. */
const fresh = (): string => `pinned-${++namespace}/`;
const createSession = async (fields: Record<string, unknown> = { TTL: '10s' }): Promise<string> => {
  const answer = await call('PUT', '/v1/session/create', JSON.stringify(fields));
  expect(answer.status, answer.text).toBe(200);
  return answer.json().ID as string;
};

describe('the Consul stand-in, against the documented KV endpoints', () => {
  it('PUT answers the JSON literal true; GET answers an array of one entry, the value in base64', async () => {
    const key = `${fresh()}config`;
    const put = await call('PUT', `/v1/kv/${key}`, Buffer.from([0, 1, 2, 255]));
    expect(put).toMatchObject({ status: 200, text: 'true' });
    expect(put.contentType).toMatch(/^application\/json/);

    const got = await call('GET', `/v1/kv/${key}`);
    expect(got.status).toBe(200);
    expect(got.contentType).toMatch(/^application\/json/);
    expect(got.index).toMatch(/^\d+$/);
    const entries = got.json();
    expect(entries).toHaveLength(1);
    expect(Object.keys(entries[0]).sort()).toEqual(['CreateIndex', 'Flags', 'Key', 'LockIndex', 'ModifyIndex', 'Value']);
    expect(entries[0]).toMatchObject({ Key: key, Flags: 0, LockIndex: 0, Value: Buffer.from([0, 1, 2, 255]).toString('base64') });
    expect(entries[0].ModifyIndex).toBe(entries[0].CreateIndex);
    expect(Number(got.index)).toBeGreaterThanOrEqual(entries[0].ModifyIndex);

    const raw = await call('GET', `/v1/kv/${key}?raw`);
    expect(raw.bytes).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('a missing key: 404', async () => {
    expect((await call('GET', `/v1/kv/${fresh()}missing`)).status).toBe(404);
    expect((await call('GET', `/v1/kv/${fresh()}?recurse`)).status).toBe(404);
  });

  it('?flags= is kept; an empty value reads as Value null', async () => {
    const key = `${fresh()}empty`;
    expect((await call('PUT', `/v1/kv/${key}?flags=42`, '')).text).toBe('true');
    expect((await call('GET', `/v1/kv/${key}`)).json()[0]).toMatchObject({ Flags: 42, Value: null });
  });

  it('?cas=0 puts only a key that does not exist; ?cas=N only over ModifyIndex N; each answers true or false', async () => {
    const key = `${fresh()}cas`;
    expect((await call('PUT', `/v1/kv/${key}?cas=0`, 'first')).text).toBe('true');
    expect((await call('PUT', `/v1/kv/${key}?cas=0`, 'second')).text).toBe('false');
    const { ModifyIndex: index, CreateIndex: created } = (await call('GET', `/v1/kv/${key}`)).json()[0];
    expect((await call('PUT', `/v1/kv/${key}?cas=${index + 1000}`, 'stale')).text).toBe('false');
    expect((await call('PUT', `/v1/kv/${key}?cas=${index}`, 'third')).text).toBe('true');
    const after = (await call('GET', `/v1/kv/${key}`)).json()[0];
    expect(Buffer.from(after.Value, 'base64').toString()).toBe('third');
    expect(after.ModifyIndex).toBeGreaterThan(index);
    expect(after.CreateIndex).toBe(created);
    // The old index no longer matches.
    expect((await call('PUT', `/v1/kv/${key}?cas=${index}`, 'fourth')).text).toBe('false');
  });

  it('?recurse gives every entry under the prefix (a plain string prefix), ?keys only their names', async () => {
    const prefix = fresh();
    for (const name of ['b', 'a', 'a/nested', 'ab']) expect((await call('PUT', `/v1/kv/${prefix}${name}`, name)).text).toBe('true');
    expect((await call('PUT', `/v1/kv/${prefix.slice(0, -1)}-sibling/x`, 'not under the prefix')).text).toBe('true');

    const recursed = (await call('GET', `/v1/kv/${prefix}?recurse`)).json() as { Key: string; Value: string }[];
    expect(recursed.map((entry) => entry.Key)).toEqual([`${prefix}a`, `${prefix}a/nested`, `${prefix}ab`, `${prefix}b`]);
    expect(recursed.map((entry) => Buffer.from(entry.Value, 'base64').toString())).toEqual(['a', 'a/nested', 'ab', 'b']);

    const keys = await call('GET', `/v1/kv/${prefix}?keys`);
    expect(keys.json()).toEqual([`${prefix}a`, `${prefix}a/nested`, `${prefix}ab`, `${prefix}b`]);
    // Not a whole segment: a prefix matches keys that start with it.
    expect((await call('GET', `/v1/kv/${prefix}a?keys`)).json()).toEqual([`${prefix}a`, `${prefix}a/nested`, `${prefix}ab`]);
  });

  it('DELETE answers true; with ?cas= it deletes only at that ModifyIndex; ?recurse deletes the prefix', async () => {
    const prefix = fresh();
    await call('PUT', `/v1/kv/${prefix}one`, '1');
    await call('PUT', `/v1/kv/${prefix}two`, '2');
    const { ModifyIndex: index } = (await call('GET', `/v1/kv/${prefix}one`)).json()[0];
    expect((await call('DELETE', `/v1/kv/${prefix}one?cas=${index + 1000}`)).text).toBe('false');
    expect((await call('DELETE', `/v1/kv/${prefix}one?cas=${index}`)).text).toBe('true');
    expect((await call('GET', `/v1/kv/${prefix}one`)).status).toBe(404);
    expect((await call('DELETE', `/v1/kv/${prefix}?recurse`)).text).toBe('true');
    expect((await call('GET', `/v1/kv/${prefix}?recurse`)).status).toBe(404);
  });

  it('refuses a value over 512 KiB (413), and stores nothing', async () => {
    const key = `${fresh()}large`;
    expect((await call('PUT', `/v1/kv/${key}`, Buffer.alloc(512 * 1024))).text).toBe('true');
    const over = await call('PUT', `/v1/kv/${fresh()}too-large`, Buffer.alloc(512 * 1024 + 1));
    expect(over.status).toBe(413);
  });

  it('?acquire= takes the lock for one session (LockIndex + 1, Session set), refuses another; ?release= gives it back', async () => {
    const key = `${fresh()}lock`;
    const holder = await createSession();
    const other = await createSession();
    expect((await call('PUT', `/v1/kv/${key}?acquire=${holder}`, 'held')).text).toBe('true');
    expect((await call('GET', `/v1/kv/${key}`)).json()[0]).toMatchObject({ LockIndex: 1, Session: holder });
    expect((await call('PUT', `/v1/kv/${key}?acquire=${other}`, 'mine')).text).toBe('false');
    // The holder acquiring again updates the value; the LockIndex stays.
    expect((await call('PUT', `/v1/kv/${key}?acquire=${holder}`, 'held again')).text).toBe('true');
    expect((await call('GET', `/v1/kv/${key}`)).json()[0]).toMatchObject({ LockIndex: 1, Session: holder });

    expect((await call('PUT', `/v1/kv/${key}?release=${other}`, 'x')).text).toBe('false');
    expect((await call('PUT', `/v1/kv/${key}?release=${holder}`, 'released')).text).toBe('true');
    const released = (await call('GET', `/v1/kv/${key}`)).json()[0];
    expect(released).not.toHaveProperty('Session');
    expect(released.LockIndex).toBe(1);
    expect((await call('PUT', `/v1/kv/${key}?acquire=${other}`, 'mine now')).text).toBe('true');
    expect((await call('GET', `/v1/kv/${key}`)).json()[0]).toMatchObject({ LockIndex: 2, Session: other });
  });
});

describe('the Consul stand-in, against the documented session endpoints', () => {
  it('create answers {"ID": ...}; info answers an array with the session as created', async () => {
    const create = await call('PUT', '/v1/session/create', JSON.stringify({ Name: 'acmectl lock', TTL: '15s', Behavior: 'delete', LockDelay: '0s' }));
    expect(create.status).toBe(200);
    expect(Object.keys(create.json())).toEqual(['ID']);
    const id = create.json().ID as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const info = (await call('GET', `/v1/session/info/${id}`)).json();
    expect(info).toEqual([expect.objectContaining({ ID: id, Name: 'acmectl lock', TTL: '15s', Behavior: 'delete', LockDelay: 0 })]);
  });

  it('defaults: Behavior "release", LockDelay 15 s (in nanoseconds)', async () => {
    const id = await createSession({ TTL: '10s' });
    expect((await call('GET', `/v1/session/info/${id}`)).json()[0]).toMatchObject({ Behavior: 'release', LockDelay: 15_000_000_000 });
  });

  it('takes a TTL from 10s to 86400s, as Go durations, and refuses one outside', async () => {
    for (const ttl of ['10s', '1m', '86400s', '24h']) expect((await call('PUT', '/v1/session/create', JSON.stringify({ TTL: ttl }))).status, ttl).toBe(200);
    for (const ttl of ['9s', '9999ms', '86401s', '25h']) {
      const refused = await call('PUT', '/v1/session/create', JSON.stringify({ TTL: ttl }));
      expect(refused.status, ttl).toBe(500);
      expect(refused.text, ttl).toMatch(/Invalid Session TTL/);
    }
  });

  it('renew answers the session in an array, and 404 once the session is gone; destroy answers true', async () => {
    const id = await createSession({ TTL: '10s' });
    const renewed = await call('PUT', `/v1/session/renew/${id}`);
    expect(renewed.status).toBe(200);
    expect(renewed.json()).toEqual([expect.objectContaining({ ID: id, TTL: '10s' })]);
    const destroyed = await call('PUT', `/v1/session/destroy/${id}`);
    expect(destroyed).toMatchObject({ status: 200, text: 'true' });
    expect((await call('PUT', `/v1/session/renew/${id}`)).status).toBe(404);
    expect((await call('GET', `/v1/session/info/${id}`)).json()).toEqual([]);
  });

  it('destroying a session releases its locks ("release") or deletes them ("delete")', async () => {
    const prefix = fresh();
    const releasing = await createSession({ TTL: '10s', LockDelay: '0s' });
    const deleting = await createSession({ TTL: '10s', Behavior: 'delete', LockDelay: '0s' });
    expect((await call('PUT', `/v1/kv/${prefix}released?acquire=${releasing}`, 'v')).text).toBe('true');
    expect((await call('PUT', `/v1/kv/${prefix}deleted?acquire=${deleting}`, 'v')).text).toBe('true');
    await call('PUT', `/v1/session/destroy/${releasing}`);
    await call('PUT', `/v1/session/destroy/${deleting}`);
    expect((await call('GET', `/v1/kv/${prefix}released`)).json()[0]).not.toHaveProperty('Session');
    expect((await call('GET', `/v1/kv/${prefix}deleted`)).status).toBe(404);
  });

  it('after a session with a lock delay is destroyed, its locks cannot be acquired during the delay', async () => {
    const key = `${fresh()}delayed`;
    const first = await createSession({ TTL: '10s', LockDelay: '15s' });
    expect((await call('PUT', `/v1/kv/${key}?acquire=${first}`, 'v')).text).toBe('true');
    await call('PUT', `/v1/session/destroy/${first}`);
    const second = await createSession();
    expect((await call('PUT', `/v1/kv/${key}?acquire=${second}`, 'v')).text).toBe('false');
  });
});
