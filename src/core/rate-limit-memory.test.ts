import { describe, expect, it } from 'vitest';
import { renewalSettings } from '../../test/support/renewal-settings.js';
import { tempDir } from '../../test/support/temp-dir.js';
import type { CaClient } from '../acme/client.js';
import { AcmeProblemError, CaStatusError } from '../acme/problem.js';
import type { CaRequestKind } from '../acme/retry-after.js';
import type { Http01Solver } from '../domain/http01.js';
import { MemoryStore } from '../store/memory.js';
import type { Store } from '../store/store.js';
import { accountKey } from './accounts.js';
import type { AccountRecord } from './accounts.js';
import { certificateKey, decodeRecord, encodeRecord } from './certificate-record.js';
import type { CertificateRecord } from './certificate-record.js';
import { issueCertificate } from './issue.js';
import type { IssueRequest } from './issue-request.js';
import { activeMemory, findHold, forgetRefusals, HeldBackError, rateLimitKey, refuseWhileHeldBack, rememberRefusal, shownTime } from './rate-limit-memory.js';
import type { RateLimitMemory } from './certificate-record.js';
import type { OrderSubject } from './rate-limit-memory.js';

const CA = 'https://ca.test/dir';
const NOW = new Date('2026-11-29T14:00:00.000Z');
const LATER = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const subject: OrderSubject = { name: 'a.example', directoryUrl: CA, email: 'ops@example.com', tryAnyway: false };
const memory = (untilSeconds: number, detail = 'too many new orders'): RateLimitMemory => ({ until: LATER(untilSeconds).toISOString(), detail, at: NOW.toISOString() });

function record(overrides: Partial<CertificateRecord> = {}, notAfter = LATER(-60)): CertificateRecord {
  return {
    schema: 1,
    name: 'a.example',
    identifiers: [{ type: 'dns', value: 'a.example' }],
    settings: renewalSettings({ server: CA, email: 'ops@example.com' }),
    current: { version: 1, serial: '01', notBefore: LATER(-90 * 86_400).toISOString(), notAfter: notAfter.toISOString(), issuer: 'Test CA', issuedAt: LATER(-90 * 86_400).toISOString(), certPem: 'PEM', chainPem: '', keyPem: 'KEY', fence: '1' },
    history: [],
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    ...overrides,
  };
}

async function storeWith(options: { record?: CertificateRecord; account?: boolean } = {}): Promise<MemoryStore> {
  const store = new MemoryStore();
  if (options.record) await store.put(certificateKey('a.example'), encodeRecord(options.record));
  if (options.account !== false) {
    const account: AccountRecord = { schema: 1, directoryUrl: CA, email: 'ops@example.com', url: `${CA}/acct/1`, keyPem: 'KEY', eabKid: null, createdAt: NOW.toISOString() };
    await store.put(accountKey(CA, 'ops@example.com'), Buffer.from(JSON.stringify(account)));
  }
  return store;
}

async function readStored(store: Store): Promise<{ entry: NonNullable<Awaited<ReturnType<Store['get']>>>; record: CertificateRecord }> {
  const entry = (await store.get(certificateKey('a.example')))!;
  return { entry, record: decodeRecord(entry.value, certificateKey('a.example')) };
}

const rateLimited = (request: CaRequestKind, untilSeconds = 180) =>
  new AcmeProblemError('the CA refused creating the order', { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many new orders\u001b[2J' }, undefined, {
    retryAfter: { until: LATER(untilSeconds), status: 429, request },
  });
const held = new AbortController().signal;

describe('activeMemory', () => {
  it('holds until the time the CA named, not at or after it', () => {
    expect(activeMemory(memory(1), NOW)).toEqual(memory(1));
    expect(activeMemory(memory(0), NOW)).toBeNull();
    expect(activeMemory(memory(-5), NOW)).toBeNull();
  });
  it('ignores what is absent or malformed', () => {
    for (const value of [undefined, null, 'x', {}, { until: 'soon', detail: 'x', at: NOW.toISOString() }, { until: LATER(60).toISOString() }]) expect(activeMemory(value, NOW)).toBeNull();
  });
});

describe('rememberRefusal', () => {
  it("keeps a refused renewal's wait in the record, compare-and-set, and says when acmectl tries again", async () => {
    const store = await storeWith({ record: record() });
    const error = await rememberRefusal(store, subject, await readStored(store), held, rateLimited('order'), NOW);
    const { record: stored } = await readStored(store);
    expect(stored.rateLimited).toEqual({ until: '2026-11-29T14:03:00.000Z', detail: 'too many new orders\\u{001b}[2J', at: NOW.toISOString() });
    expect(error).toBeInstanceOf(AcmeProblemError);
    expect((error as AcmeProblemError).message).toBe('the CA refused creating the order: rateLimited: too many new orders\\u{001b}[2J');
    expect((error as AcmeProblemError).hint).toBe('the CA asked not to be asked again before 2026-11-29T14:03:00Z: acmectl renew tries again after that (--force tries sooner)');
    // A refusal of a request of the order holds back the certificate, not the account.
    expect(await store.get(rateLimitKey(accountKey(CA, 'ops@example.com')))).toBeNull();
  });

  it('holds back the whole account when newOrder or newAccount was refused', async () => {
    for (const request of ['newOrder', 'newAccount'] as const) {
      const store = await storeWith({ record: record() });
      const error = (await rememberRefusal(store, subject, await readStored(store), held, rateLimited(request), NOW)) as AcmeProblemError;
      const entry = await store.get(rateLimitKey(accountKey(CA, 'ops@example.com')));
      expect(entry?.expiresAt).toBeGreaterThan(Date.now()); // a TTL entry: gone by itself once past
      expect(error.hint).toMatch(/holds back every certificate of this account meanwhile/);
      expect(await findHold(store, { ...subject, name: 'b.example' }, null, NOW)).toMatchObject({ scope: 'account', until: '2026-11-29T14:03:00.000Z' });
    }
  });

  it('keeps a first issue\'s wait in an entry of its own, expiring at the time the CA named', async () => {
    const store = await storeWith({ account: false });
    const error = (await rememberRefusal(store, { ...subject, email: null }, null, held, rateLimited('newAccount'), NOW)) as AcmeProblemError;
    expect(error.hint).toMatch(/acmectl issue refuses this certificate until then/);
    const own = await store.get('ratelimits/certs/a.example');
    expect(JSON.parse(Buffer.from(own!.value).toString())).toMatchObject({ until: '2026-11-29T14:03:00.000Z' });
    // No account yet: the memory is keyed like the account the registration would create.
    expect(await store.get('ratelimits/' + accountKey(CA, null))).not.toBeNull();
    expect(await findHold(store, { ...subject, email: null }, null, NOW)).toMatchObject({ until: '2026-11-29T14:03:00.000Z' });
  });

  it('remembers a 503 without a problem document too', async () => {
    const store = await storeWith({ record: record() });
    const unavailable = new CaStatusError('the CA answered HTTP 503 while finalizing the order', 503, { until: LATER(60), status: 503, request: 'order' });
    const error = (await rememberRefusal(store, subject, await readStored(store), held, unavailable, NOW)) as CaStatusError;
    expect(error).toBeInstanceOf(CaStatusError);
    expect(error.message).toBe('the CA answered HTTP 503 while finalizing the order');
    expect((await readStored(store)).record.rateLimited?.detail).toBe('HTTP 503');
  });

  it('invents no wait: an error without Retry-After, a dry run, a lost lock come back untouched and nothing is stored', async () => {
    const store = await storeWith({ record: record() });
    const current = await readStored(store);
    const plain = new AcmeProblemError('the CA refused creating the order', { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'slow down' });
    expect(await rememberRefusal(store, subject, current, held, plain, NOW)).toBe(plain);
    const limited = rateLimited('newOrder');
    expect(await rememberRefusal(store, { ...subject, tryAnyway: true }, current, held, limited, NOW)).toBe(limited);
    expect(await rememberRefusal(store, subject, current, AbortSignal.abort(), limited, NOW)).toBe(limited);
    expect((await readStored(store)).entry.rev).toBe(current.entry.rev);
    expect(await store.get(rateLimitKey(accountKey(CA, 'ops@example.com')))).toBeNull();
  });

  it('never overwrites a record that changed meanwhile, and the CA\'s error still comes back, saying the wait was not noted', async () => {
    const store = await storeWith({ record: record() });
    const stale = await readStored(store);
    await store.put(certificateKey('a.example'), encodeRecord(record({ updatedAt: LATER(1).toISOString() })));
    const error = (await rememberRefusal(store, subject, stale, held, rateLimited('order'), NOW)) as AcmeProblemError;
    expect(error.message).toMatch(/^the CA refused creating the order: rateLimited/);
    expect(error.hint).toMatch(/before 2026-11-29T14:03:00Z, but acmectl could not note that in the store \(the certificate record changed meanwhile\)/);
    expect((await readStored(store)).record.rateLimited).toBeUndefined();
  });
});

describe('holding back', () => {
  it('holds a certificate back while its own or its account\'s memory holds, the longer one first; --force and dry runs try anyway', async () => {
    const store = await storeWith({ record: record({ rateLimited: memory(60) }) });
    const { record: stored } = await readStored(store);
    expect(await findHold(store, subject, stored, NOW)).toMatchObject({ scope: 'certificate', until: LATER(60).toISOString() });
    await store.put(rateLimitKey(accountKey(CA, 'ops@example.com')), Buffer.from(JSON.stringify(memory(600))));
    expect(await findHold(store, subject, stored, NOW)).toMatchObject({ scope: 'account', until: LATER(600).toISOString() });
    expect(await findHold(store, subject, stored, LATER(600))).toBeNull();

    const error = await refuseWhileHeldBack(store, subject, stored, NOW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeldBackError);
    expect((error as HeldBackError).exitCode).toBe(1);
    expect((error as HeldBackError).message).toBe("a.example is held back by the CA's rate limit on its account until 2026-11-29T14:10:00Z (it said: too many new orders)");
    expect((error as HeldBackError).hint).toMatch(/--force to try now/);
    await expect(refuseWhileHeldBack(store, { ...subject, tryAnyway: true }, stored, NOW)).resolves.toBeUndefined();
  });

  it('finds the account without an email when the CA has one account, and gives up quietly when it has several', async () => {
    const store = await storeWith({ record: record() });
    await store.put(rateLimitKey(accountKey(CA, 'ops@example.com')), Buffer.from(JSON.stringify(memory(60))));
    expect(await findHold(store, { ...subject, email: null }, null, NOW)).toMatchObject({ scope: 'account' });
    await store.put(accountKey(CA, 'other@example.com'), Buffer.from(JSON.stringify({ schema: 1, directoryUrl: CA, email: 'other@example.com', url: 'u', keyPem: 'k', eabKid: null, createdAt: '' })));
    expect(await findHold(store, { ...subject, email: null }, null, NOW)).toBeNull();
  });

  it('after a successful order, forgets what was noted before it began and keeps what came meanwhile', async () => {
    const store = await storeWith();
    const accountMemory = rateLimitKey(accountKey(CA, 'ops@example.com'));
    await store.put('ratelimits/certs/a.example', Buffer.from(JSON.stringify(memory(60))));
    await store.put(accountMemory, Buffer.from(JSON.stringify(memory(60))));
    await forgetRefusals(store, subject, { firstIssue: true, orderStartedAt: LATER(1) });
    expect(await store.get('ratelimits/certs/a.example')).toBeNull();
    expect(await store.get(accountMemory)).toBeNull();

    await store.put(accountMemory, Buffer.from(JSON.stringify(memory(60))));
    await forgetRefusals(store, subject, { firstIssue: false, orderStartedAt: LATER(-1) });
    expect(await store.get(accountMemory)).not.toBeNull();
  });

  it('shows times to the second', () => expect(shownTime('2026-11-29T14:03:00.000Z')).toBe('2026-11-29T14:03:00Z'));
});

describe('issueCertificate with the rate-limit memory', () => {
  const request = (overrides: Partial<IssueRequest> = {}): IssueRequest => ({
    name: 'a.example',
    identifiers: [{ type: 'dns', value: 'a.example' }],
    settings: record().settings,
    force: false,
    account: { email: 'ops@example.com', agreeTos: false, eab: null },
    ...overrides,
  });
  const solver: Http01Solver = { description: 'none', present: async () => {}, cleanUp: async () => {}, close: async () => {} } as unknown as Http01Solver;

  function dependencies(store: Store, newOrder: () => Promise<never>) {
    const seen = { connects: 0, newOrders: 0, waits: 0 };
    const ca = { directory: {}, newOrder: async () => (seen.newOrders++, newOrder()) } as unknown as CaClient;
    return {
      seen,
      deps: {
        store,
        connect: async () => (seen.connects++, ca),
        solver,
        progress: () => {},
        orderTimeoutMs: 5000,
        pkcs12Password: () => '',
        defaultExportDir: tempDir('rate-limit'), // the export directory is tried (created) before an order
        beforeLock: async () => void seen.waits++,
        now: () => NOW,
      },
    };
  }

  it('remembers a 429 on newOrder, then holds the certificate back before any wait or request; --force tries anyway', async () => {
    const store = await storeWith({ record: record() });
    const { seen, deps } = dependencies(store, () => Promise.reject(rateLimited('newOrder')));
    const first = await issueCertificate(request(), deps).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(AcmeProblemError);
    expect((first as AcmeProblemError).hint).toMatch(/acmectl renew tries again after that/);
    expect((await readStored(store)).record.rateLimited?.until).toBe('2026-11-29T14:03:00.000Z');
    expect(seen).toEqual({ connects: 1, newOrders: 1, waits: 1 });

    const second = await issueCertificate(request(), deps).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(HeldBackError);
    expect(seen).toEqual({ connects: 1, newOrders: 1, waits: 1 });

    await issueCertificate(request({ force: true }), deps).catch((e: unknown) => e);
    expect(seen.newOrders).toBe(2);
  });

  it('does not take a record rewritten to remember a rate limit for a renewal made elsewhere', async () => {
    const store = await storeWith({ record: record() });
    const { deps } = dependencies(store, () => Promise.reject(new Error('unexpected order')));
    // Another process is refused while this one waits for the lock: it finds the memory, not "renewed elsewhere".
    const lockedDeps = {
      ...deps,
      beforeLock: async () => {
        const current = await readStored(store);
        await store.put(certificateKey('a.example'), encodeRecord({ ...current.record, rateLimited: memory(60) }), { ifRev: current.entry.rev });
      },
    };
    await expect(issueCertificate(request(), lockedDeps)).rejects.toBeInstanceOf(HeldBackError);
  });
});
