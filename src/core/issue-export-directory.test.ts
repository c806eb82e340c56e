import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renewalSettings } from '../../test/support/renewal-settings.js';
import { tempDir } from '../../test/support/temp-dir.js';
import type { CaClient } from '../acme/client.js';
import { UsageError } from '../domain/errors.js';
import type { Http01Solver } from '../domain/http01.js';
import { MemoryStore } from '../store/memory.js';
import type { Store } from '../store/store.js';
import type { RenewalSettings } from './certificate-record.js';
import { issueCertificate } from './issue.js';

const settings = (out: string | null): RenewalSettings => renewalSettings({ server: 'https://ca.test/dir', out });

async function dump(store: Store): Promise<Record<string, string>> {
  const revisions: Record<string, string> = {};
  for await (const key of store.list('')) revisions[key] = (await store.get(key))!.rev;
  return revisions;
}

describe('issueCertificate tries the export directory first', () => {
  it.each([
    ['a file', (root: string) => join(root, 'file')],
    ['a path under a file', (root: string) => join(root, 'file', 'live')],
    ['/proc', () => '/proc/acmectl-test'],
  ])('refuses %s before any wait, lock or request to the CA', async (_what, outOf) => {
    const root = tempDir('issue-out');
    writeFileSync(join(root, 'file'), 'x');
    const store = new MemoryStore();
    const before = await dump(store);
    const seen = { connects: 0, waits: 0 };
    const outcome = await issueCertificate(
      { name: 'a.example', identifiers: [{ type: 'dns', value: 'a.example' }], settings: settings(outOf(root)), force: false, account: { email: null, agreeTos: true, eab: null } },
      {
        store,
        connect: async () => (seen.connects++, {} as CaClient),
        solver: {} as Http01Solver,
        progress: () => {},
        orderTimeoutMs: 5000,
        pkcs12Password: () => '',
        defaultExportDir: join(root, 'default'),
        beforeLock: async () => void seen.waits++,
      },
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(UsageError);
    expect((outcome as Error).message).toMatch(/^the export directory .* cannot be used: /);
    expect(seen).toEqual({ connects: 0, waits: 0 });
    expect(await dump(store)).toEqual(before);
  });
});
