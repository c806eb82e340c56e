import { afterEach, describe, expect, it, vi } from 'vitest';
import { CaClient } from '../acme/client.js';
import { caConnector } from './ca-connector.js';
import type { Context } from './context.js';

const ctx = { caBundlePem: () => undefined, settings: { requestTimeout: 30 } } as unknown as Context;

describe('caConnector', () => {
  afterEach(() => vi.restoreAllMocks());

  it('connects once per CA and account within a command, however many certificates use it', async () => {
    const connect = vi.spyOn(CaClient, 'connect').mockImplementation(async () => ({}) as CaClient);
    const connector = caConnector(ctx);
    const clients = await Promise.all([1, 2, 3, 4].map(() => connector('https://ca.test/dir', 'KEY', { accountUrl: 'https://ca.test/acct/1' })));
    expect(new Set(clients).size).toBe(1);
    expect(connect).toHaveBeenCalledTimes(1);
    await connector('https://ca.test/dir', 'KEY2', { accountUrl: 'https://ca.test/acct/2' });
    await connector('https://other.test/dir', 'KEY', { accountUrl: 'https://other.test/acct/1' });
    expect(connect).toHaveBeenCalledTimes(3);
  });

  it('connects again for the same account with another key (after a key change)', async () => {
    const connect = vi.spyOn(CaClient, 'connect').mockImplementation(async () => ({}) as CaClient);
    const connector = caConnector(ctx);
    const before = await connector('https://ca.test/dir', 'OLD KEY', { accountUrl: 'https://ca.test/acct/1' });
    const after = await connector('https://ca.test/dir', 'NEW KEY', { accountUrl: 'https://ca.test/acct/1' });
    expect(after).not.toBe(before);
    expect(connect).toHaveBeenCalledTimes(2);
    expect(connect.mock.calls[1]![0]).toMatchObject({ accountKeyPem: 'NEW KEY', accountUrl: 'https://ca.test/acct/1' });
  });

  it('does not cache a failed connection', async () => {
    const connect = vi.spyOn(CaClient, 'connect').mockRejectedValueOnce(new Error('down')).mockResolvedValue({} as CaClient);
    const connector = caConnector(ctx);
    await expect(connector('https://ca.test/dir', 'KEY', { accountUrl: 'u' })).rejects.toThrow('down');
    await connector('https://ca.test/dir', 'KEY', { accountUrl: 'u' });
    expect(connect).toHaveBeenCalledTimes(2);
  });
});
