import { afterEach, describe, expect, it } from 'vitest';
import type { AcmeDirectory } from '../acme/client.js';
import type { RenewalInfo } from '../acme/ari.js';
import { MemoryStore } from '../store/memory.js';
import { certificateKey, decodeRecord, encodeRecord } from './certificate-record.js';
import type { CertificateRecord, StoredRenewalInfo } from './certificate-record.js';
import { summarize } from './certificate-list.js';
import { OperationError } from '../domain/errors.js';
import { refreshRenewalInfo, renewalInfoStale, renewalInfoWanted } from './renewal-info.js';
import type { RenewalInfoDependencies } from './renewal-info.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const now = new Date('2026-03-01T00:00:00Z');
const ISSUING_CA = 'https://issuing.example/dir';
const withAri: AcmeDirectory = { newNonce: 'n', newAccount: 'a', newOrder: 'o', renewalInfo: 'https://issuing.example/ari' };

function record(name: string, overrides: Partial<CertificateRecord> = {}): CertificateRecord {
  return {
    schema: 1,
    name,
    identifiers: [{ type: 'dns', value: name }],
    settings: { server: ISSUING_CA, caBundlePem: 'STORED BUNDLE' } as CertificateRecord['settings'],
    current: {
      version: 1,
      serial: 'AB',
      notBefore: new Date(now.getTime() - 10 * DAY).toISOString(),
      notAfter: new Date(now.getTime() + 80 * DAY).toISOString(),
      issuer: 'Test CA',
      issuedAt: now.toISOString(),
      certPem: `PEM of ${name}`,
      chainPem: '',
      keyPem: 'KEY',
      fence: '1',
    },
    history: [],
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    ...overrides,
  };
}

const window = (startDays: number, endDays: number, retryAfterMs = 6 * HOUR): RenewalInfo => ({
  start: new Date(now.getTime() + startDays * DAY),
  end: new Date(now.getTime() + endDays * DAY),
  explanationURL: 'https://issuing.example/why',
  retryAfterMs,
});

let store: MemoryStore;
afterEach(async () => store?.close());

async function setup(records: CertificateRecord[], answers: Record<string, RenewalInfo | Error>, directory: AcmeDirectory = withAri) {
  store = new MemoryStore();
  for (const r of records) await store.put(certificateKey(r.name), encodeRecord(r));
  const asked: { directories: string[]; fetched: string[]; bundles: (string | null)[] } = { directories: [], fetched: [], bundles: [] };
  const deps: RenewalInfoDependencies = {
    store,
    readDirectory: async (url, bundle) => {
      asked.directories.push(url);
      asked.bundles.push(bundle);
      return directory;
    },
    fetch: async (url, pem) => {
      asked.fetched.push(`${url} ${pem}`);
      const answer = answers[pem.replace('PEM of ', '')];
      if (!answer) throw new Error('no answer');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    now: () => now,
    concurrency: 4,
    random: (span) => span / 4,
  };
  return { deps, asked };
}

const stored = async (name: string) => decodeRecord((await store.get(certificateKey(name)))!.value, name).renewalInfo;

describe('refreshing renewal information', () => {
  it('asks the CA that issued each certificate, with its stored bundle, once per directory, and stores the window with a moment in it', async () => {
    const { deps, asked } = await setup([record('a.example'), record('b.example')], { 'a.example': window(20, 24), 'b.example': window(30, 32) });
    const { records, notes } = await refreshRenewalInfo(await Promise.all(['a.example', 'b.example'].map(async (n) => decodeRecord((await store.get(certificateKey(n)))!.value, n))), {}, deps);
    expect(asked.directories).toEqual([ISSUING_CA]);
    expect(asked.bundles).toEqual(['STORED BUNDLE']);
    expect(asked.fetched).toEqual(['https://issuing.example/ari PEM of a.example', 'https://issuing.example/ari PEM of b.example']);
    const info: StoredRenewalInfo = {
      serial: 'AB',
      windowStart: new Date(now.getTime() + 20 * DAY).toISOString(),
      windowEnd: new Date(now.getTime() + 24 * DAY).toISOString(),
      renewAt: new Date(now.getTime() + 21 * DAY).toISOString(),
      explanationURL: 'https://issuing.example/why',
      fetchedAt: now.toISOString(),
      retryAfter: new Date(now.getTime() + 6 * HOUR).toISOString(),
    };
    expect(await stored('a.example')).toEqual(info);
    expect(records[0]!.renewalInfo).toEqual(info);
    expect(notes.map((n) => [n.name, n.outcome])).toEqual([['a.example', 'fetched'], ['b.example', 'fetched']]);
  });

  it('does not ask again before the stored Retry-After, and keeps the moment when the window is the same', async () => {
    const first = await setup([record('a.example')], { 'a.example': window(20, 24) });
    const [after] = (await refreshRenewalInfo([record('a.example')], {}, first.deps)).records;
    const again = await refreshRenewalInfo([after!], {}, { ...first.deps, now: () => new Date(now.getTime() + HOUR) });
    expect(again.notes).toEqual([{ name: 'a.example', outcome: 'fresh', info: after!.renewalInfo }]);
    expect(first.asked.fetched).toHaveLength(1);

    const later = await refreshRenewalInfo([after!], {}, { ...first.deps, now: () => new Date(now.getTime() + 7 * HOUR), random: () => 0 });
    expect(first.asked.fetched).toHaveLength(2);
    expect(later.records[0]!.renewalInfo!.renewAt).toBe(after!.renewalInfo!.renewAt); // same window: not re-rolled
  });

  it('leaves the lifetime rule in charge when the CA has no ARI, or does not answer', async () => {
    const none = await setup([record('a.example')], {}, { newNonce: 'n', newAccount: 'a', newOrder: 'o' });
    expect((await refreshRenewalInfo([record('a.example')], {}, none.deps)).notes).toEqual([{ name: 'a.example', outcome: 'no-ari', server: ISSUING_CA }]);
    expect(none.asked.fetched).toEqual([]);

    const failing = await setup([record('a.example')], { 'a.example': new OperationError('the CA answered HTTP 500 for the renewal information') });
    const result = await refreshRenewalInfo([record('a.example')], {}, failing.deps);
    expect(result.notes).toMatchObject([{ name: 'a.example', outcome: 'failed', error: { message: /HTTP 500/ } }]);
    expect(result.records[0]!.renewalInfo).toBeUndefined();
    expect(await stored('a.example')).toBeUndefined();
  });

  it('asks nothing about a revoked or expired certificate', async () => {
    const revoked = record('r.example');
    revoked.current.revoked = { at: now.toISOString(), reason: 'unspecified' };
    const expired = record('e.example');
    expired.current.notAfter = new Date(now.getTime() - 1).toISOString();
    const { deps, asked } = await setup([revoked, expired], {});
    expect((await refreshRenewalInfo([revoked, expired], {}, deps)).notes).toEqual([]);
    expect(asked.directories).toEqual([]);
  });

  it('does not store while another process holds the certificate (a renewal in progress), but uses the answer', async () => {
    const { deps } = await setup([record('a.example')], { 'a.example': window(-2, -1) });
    const lease = await store.lock(certificateKey('a.example'), { ttlMs: 30_000 });
    const result = await refreshRenewalInfo([record('a.example')], {}, deps);
    await lease!.release();
    expect(result.notes).toMatchObject([{ name: 'a.example', outcome: 'fetched', stored: false }]);
    expect(result.records[0]!.renewalInfo?.windowEnd).toBe(new Date(now.getTime() - DAY).toISOString());
    expect(await stored('a.example')).toBeUndefined();
  });

  it('does not store an answer about a version that was renewed meanwhile', async () => {
    const { deps } = await setup([record('a.example')], { 'a.example': window(20, 24) });
    const renewed = record('a.example');
    renewed.current.serial = 'CD';
    await store.put(certificateKey('a.example'), encodeRecord(renewed));
    const result = await refreshRenewalInfo([record('a.example')], {}, deps);
    expect(result.notes).toMatchObject([{ outcome: 'fetched', stored: false }]);
    expect(await stored('a.example')).toBeUndefined();
  });

  it('a run given --ca-bundle reaches the CA with it', async () => {
    const { deps, asked } = await setup([record('a.example')], { 'a.example': window(20, 24) });
    await refreshRenewalInfo([record('a.example')], { caBundlePem: 'GIVEN BUNDLE' }, deps);
    expect(asked.bundles).toEqual(['GIVEN BUNDLE']);
  });
});

describe('list status with stored renewal information', () => {
  it('is due once the stored moment has come, without asking anyone', () => {
    const info: StoredRenewalInfo = {
      serial: 'AB',
      windowStart: new Date(now.getTime() - 2 * DAY).toISOString(),
      windowEnd: new Date(now.getTime() - DAY).toISOString(),
      renewAt: new Date(now.getTime() - 1.5 * DAY).toISOString(),
      explanationURL: null,
      fetchedAt: now.toISOString(),
      retryAfter: now.toISOString(),
    };
    expect(summarize(record('a.example'), now).status).toBe('valid');
    expect(summarize(record('a.example', { renewalInfo: info }), now).status).toBe('due');
    expect(summarize(record('a.example', { renewalInfo: { ...info, serial: 'OLD' } }), now).status).toBe('valid');
  });
});

describe('when a run asks the CA again (and so waits randomly first, from cron)', () => {
  const stored = (serial: string, retryAfter: Date): StoredRenewalInfo => ({
    serial,
    windowStart: now.toISOString(),
    windowEnd: new Date(now.getTime() + DAY).toISOString(),
    renewAt: now.toISOString(),
    explanationURL: null,
    fetchedAt: new Date(now.getTime() - 7 * HOUR).toISOString(),
    retryAfter: retryAfter.toISOString(),
  });

  it('asks when nothing is stored, or the stored answer is past its Retry-After; waits only in the second case', () => {
    const never = record('never.example');
    expect(renewalInfoWanted(never, now)).toBe(true);
    expect(renewalInfoStale(never, now)).toBe(false);

    const stale = record('stale.example', { renewalInfo: stored('AB', new Date(now.getTime() - HOUR)) });
    expect(renewalInfoWanted(stale, now)).toBe(true);
    expect(renewalInfoStale(stale, now)).toBe(true);

    const fresh = record('fresh.example', { renewalInfo: stored('AB', new Date(now.getTime() + HOUR)) });
    expect(renewalInfoWanted(fresh, now)).toBe(false);
    expect(renewalInfoStale(fresh, now)).toBe(false);
  });

  it('does not ask about a revoked or expired certificate, nor count an answer about an earlier version', () => {
    const revoked = record('revoked.example', { renewalInfo: stored('AB', new Date(now.getTime() - HOUR)) });
    revoked.current = { ...revoked.current, revoked: { at: now.toISOString(), reason: 'keyCompromise' } };
    expect(renewalInfoWanted(revoked, now)).toBe(false);
    expect(renewalInfoStale(revoked, now)).toBe(false);

    const renewed = record('renewed.example', { renewalInfo: stored('OLD', new Date(now.getTime() + HOUR)) });
    expect(renewalInfoWanted(renewed, now)).toBe(true);
    expect(renewalInfoStale(renewed, now)).toBe(false);
  });
});
