import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renewalSettings } from '../../test/support/renewal-settings.js';
import { sqliteDump } from '../../test/support/store-snapshot.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { UsageError } from '../domain/errors.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { deleteCertificate, exportCertificate, revokeCertificate } from './certificate-admin.js';
import { certificateKey, encodeRecord } from './certificate-record.js';
import type { CertificateRecord, CertificateVersion } from './certificate-record.js';

const version = (n: number, extra: Partial<CertificateVersion> = {}): CertificateVersion => ({
  version: n,
  serial: `0${n}`,
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2026-04-01T00:00:00.000Z',
  issuer: 'Test CA',
  issuedAt: '2026-01-01T00:00:00.000Z',
  certPem: 'PEM',
  chainPem: '',
  keyPem: 'KEY',
  fence: String(n),
  ...extra,
});

function record(name: string, current: CertificateVersion): CertificateRecord {
  return {
    schema: 1,
    name,
    identifiers: [{ type: 'dns', value: name }],
    settings: renewalSettings({ server: 'https://ca.test/dir' }),
    current,
    history: [version(1)],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

/** A SQLite store holding a.example (versions 2 and 1) and the revoked r.example; its file's path. */
async function populated(): Promise<{ store: Store; path: string }> {
  const path = join(tempDir('admin'), 'acmectl.db');
  const store = await openStore(`sqlite:${path}`);
  await store.put(certificateKey('a.example'), encodeRecord(record('a.example', version(2))));
  await store.put(certificateKey('r.example'), encodeRecord(record('r.example', version(2, { revoked: { at: '2026-02-01T00:00:00.000Z', reason: 'superseded' } }))));
  // A lock taken and released once: its fence counter exists, so a second lock would bump it.
  await (await store.lock(certificateKey('a.example'), { ttlMs: 10_000, waitMs: 0 }))!.release();
  return { store, path };
}

const refuse = { connect: async () => Promise.reject(new Error('no CA in this test')) };

describe('wrong input to export, revoke and delete writes nothing, not even a lock', () => {
  it.each([
    ['export of an unknown name', (store: Store) => exportCertificate(store, 'nope.example', undefined, () => ({ outDir: '/nonexistent', formats: ['pem'], pkcs12Password: () => '' })), /no certificate named "nope\.example"/],
    ['export of a version that is not kept', (store: Store) => exportCertificate(store, 'a.example', 999, () => ({ outDir: '/nonexistent', formats: ['pem'], pkcs12Password: () => '' })), /"a\.example" has no version 999/],
    ['revoke of an unknown name', (store: Store) => revokeCertificate(store, refuse.connect, 'nope.example', 'unspecified', false), /no certificate named "nope\.example"/],
    ['revoke of a revoked certificate', (store: Store) => revokeCertificate(store, refuse.connect, 'r.example', 'unspecified', false), /was already revoked/],
    ['delete of an unknown name', (store: Store) => deleteCertificate(store, 'nope.example', null), /no certificate named "nope\.example"/],
  ])('%s', async (_what, run, message) => {
    const { store, path } = await populated();
    try {
      const before = sqliteDump(path);
      expect(before?.lock_fences).toHaveLength(1);
      const error = await run(store).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(message);
      expect(sqliteDump(path)).toEqual(before);
    } finally {
      await store.close();
    }
  });
});
