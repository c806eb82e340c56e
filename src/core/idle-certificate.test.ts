import { describe, expect, it } from 'vitest';
import { renewalSettings } from '../../test/support/renewal-settings.js';
import { ScriptedCa } from '../../test/support/scripted-ca.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { ignoreProgress } from '../domain/events.js';
import { MemoryStore } from '../store/memory.js';
import type { CertificateRecord } from './certificate-record.js';
import { idleCertificate } from './idle-certificate.js';
import { issueCertificate } from './issue.js';

const HOUR = 3_600_000;

/** A certificate issued by the scripted CA and exported to `dir`, with a stored renewal window. */
async function issued(dir: string): Promise<CertificateRecord> {
  const ca = new ScriptedCa();
  const store = new MemoryStore();
  const result = await issueCertificate(
    { name: 'idle.example', identifiers: [{ type: 'dns', value: 'idle.example' }], settings: renewalSettings({ server: ca.directoryUrl }), force: false, account: { email: null, agreeTos: true, eab: null } },
    { store, connect: ca.connect, solver: ca.solver, progress: ignoreProgress, orderTimeoutMs: 60_000, pkcs12Password: () => '', defaultExportDir: dir },
  );
  await store.close();
  return result.record;
}

function withWindow(record: CertificateRecord, now: number, window: { renewAtIn: number; retryAfterIn: number }): CertificateRecord {
  return {
    ...record,
    renewalInfo: {
      serial: record.current.serial,
      windowStart: new Date(now + window.renewAtIn - HOUR).toISOString(),
      windowEnd: new Date(now + window.renewAtIn + HOUR).toISOString(),
      renewAt: new Date(now + window.renewAtIn).toISOString(),
      explanationURL: null,
      fetchedAt: new Date(now).toISOString(),
      retryAfter: new Date(now + window.retryAfterIn).toISOString(),
    },
  };
}

// A renew run keeps none of these records; it must be exactly those issueCertificate would leave unchanged
// without asking the CA or writing a file.
describe('idleCertificate', () => {
  it('is the certificate, with its renewal time, when its window is still good, it is not due and its files are here', async () => {
    const dir = tempDir('idle');
    const now = Date.now();
    const record = withWindow(await issued(dir), now, { renewAtIn: 48 * HOUR, retryAfterIn: 6 * HOUR });
    const idle = idleCertificate(record, new Date(now), dir);
    expect(idle?.name).toBe('idle.example');
    expect(idle?.renewalTime.toISOString()).toBe(record.renewalInfo!.renewAt);
  });

  it('is null when the CA is to be asked about the window (none stored, or its Retry-After passed)', async () => {
    const dir = tempDir('idle');
    const now = Date.now();
    const record = await issued(dir);
    expect(idleCertificate(record, new Date(now), dir)).toBeNull();
    expect(idleCertificate(withWindow(record, now, { renewAtIn: 48 * HOUR, retryAfterIn: -1 }), new Date(now), dir)).toBeNull();
  });

  it('is null when it is due, revoked, or this host lacks its files', async () => {
    const dir = tempDir('idle');
    const now = Date.now();
    const record = withWindow(await issued(dir), now, { renewAtIn: 48 * HOUR, retryAfterIn: 6 * HOUR });
    expect(idleCertificate(withWindow(record, now, { renewAtIn: -HOUR, retryAfterIn: 6 * HOUR }), new Date(now), dir)).toBeNull();
    expect(idleCertificate({ ...record, current: { ...record.current, revoked: { at: new Date(now).toISOString(), reason: 'keyCompromise' } } }, new Date(now), dir)).toBeNull();
    expect(idleCertificate(record, new Date(now), tempDir('idle-other-host'))).toBeNull();
  });
});
