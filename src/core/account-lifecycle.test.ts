import { beforeAll, describe, expect, it } from 'vitest';
import type { AcmeAccount, CaClient } from '../acme/client.js';
import { generatePrivateKey, jwkThumbprint } from '../pki/keys.js';
import { AcmeProblemError } from '../acme/problem.js';
import { MemoryStore } from '../store/memory.js';
import type { PutOptions, Store } from '../store/store.js';
import { deactivateAccount, requireAccount, rolloverAccountKey, showAccount, updateAccountContact, usableAccount } from './account-lifecycle.js';
import { accountKey, findAccount, findAccountEntry, readAccountEntry, registerAccount, writeAccount } from './accounts.js';
import type { AccountRecord } from './accounts.js';
import { OperationError, UsageError } from '../domain/errors.js';
import { ignoreProgress } from '../domain/events.js';
import type { CaConnector } from './issue-request.js';

const DIR = 'https://ca.test/dir';
const URL1 = 'https://ca.test/acct/1';
let keys: string[] = [];
beforeAll(async () => {
  keys = await Promise.all([1, 2, 3, 4].map(() => generatePrivateKey('ec256')));
});

/** The CA's side of one account, and how its answers to a key change go wrong when asked to. */
interface FakeCa {
  keyPem: string;
  status: string;
  contact: string[];
  keyChange: boolean;
  /** 'refuse': a problem document, nothing changed; 'lost': no answer, nothing changed; 'switched-lost': switched, the answer lost. */
  keyChangeFailure?: 'refuse' | 'lost' | 'switched-lost';
  deactivationFailure?: 'lost';
  calls: string[];
}

const problem = (type: string, detail: string) => new AcmeProblemError('the CA refused it', { type: `urn:ietf:params:acme:error:${type}`, detail });
const noAnswer = () => new OperationError('could not reach the CA at https://ca.test/dir: no answer within 30 s');

/** A CaConnector over one fake account: requests signed with another key than the CA's are refused, as RFC 8555 says. */
function fakeConnector(ca: FakeCa): CaConnector {
  return async (_directoryUrl, keyPem) => {
    const checkKey = (what: string): void => {
      ca.calls.push(what);
      if (keyPem !== ca.keyPem) throw problem('malformed', 'JWS verification error');
      if (ca.status === 'deactivated') throw problem('unauthorized', 'Account has been deactivated');
    };
    const client = {
      supportsKeyChange: ca.keyChange,
      async getAccount(): Promise<AcmeAccount> {
        checkKey('get');
        return { status: ca.status, contact: [...ca.contact] };
      },
      async updateAccount(changes: { contact?: string[]; status?: string }): Promise<AcmeAccount> {
        checkKey(changes.status ? 'deactivate' : 'update');
        if (changes.contact) ca.contact = changes.contact;
        if (changes.status) {
          ca.status = changes.status;
          if (ca.deactivationFailure === 'lost') throw noAnswer();
        }
        return { status: ca.status, contact: [...ca.contact] };
      },
      async changeKey(newKeyPem: string): Promise<void> {
        checkKey('keyChange');
        if (ca.keyChangeFailure === 'refuse') throw problem('malformed', 'the CA does not like the new key');
        if (ca.keyChangeFailure === 'lost') throw noAnswer();
        ca.keyPem = newKeyPem;
        if (ca.keyChangeFailure === 'switched-lost') throw noAnswer();
      },
    };
    return client as unknown as CaClient;
  };
}

/** A store whose writes fail (as a store that went away) while `failing` says so. */
function flakyStore(inner: Store, failing: (key: string, options: PutOptions | undefined) => boolean): Store {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'put') {
        return async (key: string, value: Uint8Array, options?: PutOptions) => {
          if (failing(key, options)) throw new OperationError('the store is unreachable');
          return target.put(key, value, options);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function storeWithAccount(email: string | null, extra: Partial<AccountRecord> = {}): Promise<{ store: MemoryStore; ca: FakeCa; record: AccountRecord }> {
  const store = new MemoryStore();
  const record: AccountRecord = { schema: 1, directoryUrl: DIR, email, url: URL1, keyPem: keys[0]!, eabKid: null, caBundlePem: null, createdAt: '2026-01-01T00:00:00.000Z', ...extra };
  await writeAccount(store, accountKey(DIR, email), record, { ifAbsent: true });
  const ca: FakeCa = { keyPem: keys[0]!, status: 'valid', contact: email ? [`mailto:${email}`] : [], keyChange: true, calls: [] };
  return { store, ca, record };
}

const storedKeys = async (store: Store): Promise<string[]> => {
  const found: string[] = [];
  for await (const key of store.list('accounts/')) found.push(key);
  return found;
};

describe('account update (contact)', () => {
  it('changes the contact at the CA, moves the entry to the new email, and certificates with the old email still find it', async () => {
    const { store, ca } = await storeWithAccount('old@example.com');
    const update = await updateAccountContact(store, { directoryUrl: DIR, email: null }, 'new@example.com', fakeConnector(ca), ignoreProgress);
    expect(ca.contact).toEqual(['mailto:new@example.com']);
    expect(update.after).toMatchObject({ email: 'new@example.com', formerEmails: ['old@example.com'], url: URL1, keyPem: keys[0] });
    expect(update.oldEntryLeft).toBeNull();
    expect(await storedKeys(store)).toEqual([accountKey(DIR, 'new@example.com')]);
    // renew and revoke look the account up by the email stored with the certificate
    expect((await findAccount(store, DIR, 'old@example.com'))?.url).toBe(URL1);
    expect((await findAccount(store, DIR, 'new@example.com'))?.url).toBe(URL1);
  });

  it('removes the contact with no email; an account registered later under the old email takes precedence', async () => {
    const { store, ca } = await storeWithAccount('old@example.com');
    await updateAccountContact(store, { directoryUrl: DIR, email: 'old@example.com' }, null, fakeConnector(ca), ignoreProgress);
    expect(ca.contact).toEqual([]);
    expect(await storedKeys(store)).toEqual([accountKey(DIR, null)]);
    await writeAccount(store, accountKey(DIR, 'old@example.com'), { schema: 1, directoryUrl: DIR, email: 'old@example.com', url: 'https://ca.test/acct/2', keyPem: keys[1]!, eabKid: null, createdAt: '2026-02-01T00:00:00.000Z' }, { ifAbsent: true });
    expect((await findAccount(store, DIR, 'old@example.com'))?.url).toBe('https://ca.test/acct/2');
  });

  it('refuses an email another account has, before contacting the CA (exit 2)', async () => {
    const { store, ca } = await storeWithAccount('old@example.com');
    await writeAccount(store, accountKey(DIR, 'taken@example.com'), { schema: 1, directoryUrl: DIR, email: 'taken@example.com', url: 'https://ca.test/acct/2', keyPem: keys[1]!, eabKid: null, createdAt: '2026-02-01T00:00:00.000Z' }, { ifAbsent: true });
    const attempt = updateAccountContact(store, { directoryUrl: DIR, email: 'old@example.com' }, 'taken@example.com', fakeConnector(ca), ignoreProgress);
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/already has an account for taken@example.com/);
    expect(ca.calls).toEqual([]);
  });

  it('says exactly what happened when the store fails after the CA changed the contact, and the old entry keeps working', async () => {
    const { store: inner, ca } = await storeWithAccount('old@example.com');
    const store = flakyStore(inner, (key) => key === accountKey(DIR, 'new@example.com'));
    const attempt = updateAccountContact(store, { directoryUrl: DIR, email: null }, 'new@example.com', fakeConnector(ca), ignoreProgress);
    await expect(attempt).rejects.toThrow(
      `the CA now has new@example.com as the contact for ${URL1}, but the store could not record it: the store is unreachable`,
    );
    await expect(attempt).rejects.toMatchObject({ exitCode: 1, hint: expect.stringMatching(/still has the account under old@example.com.*run acmectl account update again/) });
    expect(ca.contact).toEqual(['mailto:new@example.com']);
    expect(await storedKeys(inner)).toEqual([accountKey(DIR, 'old@example.com')]);
    // Running it again records it.
    await updateAccountContact(inner, { directoryUrl: DIR, email: null }, 'new@example.com', fakeConnector(ca), ignoreProgress);
    expect(await storedKeys(inner)).toEqual([accountKey(DIR, 'new@example.com')]);
  });

  it('a move interrupted after writing the new entry leaves a duplicate, which the next account command removes', async () => {
    const { store, record } = await storeWithAccount('old@example.com');
    // What a crash between the two writes leaves: the old entry, and the new one naming it as a former email.
    await writeAccount(store, accountKey(DIR, 'new@example.com'), { ...record, email: 'new@example.com', formerEmails: ['old@example.com'] }, { ifAbsent: true });
    const entry = await requireAccount(store, { directoryUrl: DIR, email: 'old@example.com' });
    expect(entry.key).toBe(accountKey(DIR, 'new@example.com'));
    expect(await storedKeys(store)).toEqual([accountKey(DIR, 'new@example.com')]);
  });
});

describe('account rollover (key change)', () => {
  it('switches the CA to a new key and stores it; the old key is refused afterwards', async () => {
    const { store, ca } = await storeWithAccount('ops@example.com');
    const result = await rolloverAccountKey(store, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => keys[1]!, ignoreProgress);
    expect(result).toMatchObject({ outcome: 'rolled-over', oldThumbprint: jwkThumbprint(keys[0]!), newThumbprint: jwkThumbprint(keys[1]!) });
    const stored = (await findAccount(store, DIR, 'ops@example.com'))!;
    expect(stored.keyPem).toBe(keys[1]);
    expect(stored.pendingKeyPem).toBeUndefined();
    expect(ca.keyPem).toBe(keys[1]);
    await expect((await fakeConnector(ca)(DIR, keys[0]!, { accountUrl: URL1 })).getAccount()).rejects.toThrow(/JWS verification error/);
  });

  it('refuses a CA without keyChange (exit 1) before anything is stored or sent', async () => {
    const { store, ca } = await storeWithAccount('ops@example.com');
    ca.keyChange = false;
    const before = await readAccountEntry(store, accountKey(DIR, 'ops@example.com'));
    let generated = false;
    const attempt = rolloverAccountKey(store, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => ((generated = true), keys[1]!), ignoreProgress);
    await expect(attempt).rejects.toMatchObject({ exitCode: 1, message: expect.stringMatching(/does not offer account key changes .*nothing was changed/) });
    expect(generated).toBe(false);
    expect(ca.calls).toEqual([]);
    expect((await readAccountEntry(store, accountKey(DIR, 'ops@example.com')))?.rev).toBe(before?.rev);
  });

  it('keeps the old key when the CA refuses, and forgets the new one', async () => {
    const { store, ca } = await storeWithAccount('ops@example.com');
    ca.keyChangeFailure = 'refuse';
    await expect(rolloverAccountKey(store, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => keys[1]!, ignoreProgress)).rejects.toThrow(AcmeProblemError);
    const stored = (await findAccount(store, DIR, null))!;
    expect(stored.keyPem).toBe(keys[0]);
    expect(stored.pendingKeyPem).toBeUndefined();
  });

  it.each([
    ['the CA switched, but its answer was lost', 'switched-lost', 1],
    ['the request never reached the CA', 'lost', 0],
  ] as const)('without an answer (%s), keeps both keys; the next command asks the CA which works and keeps it', async (_what, failure, working) => {
    const { store, ca } = await storeWithAccount('ops@example.com');
    ca.keyChangeFailure = failure;
    const attempt = rolloverAccountKey(store, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => keys[1]!, ignoreProgress);
    await expect(attempt).rejects.toThrow(/got no answer from the CA, so whether the CA switched keys is not known/);
    await expect(attempt).rejects.toMatchObject({ hint: expect.stringMatching(/both keys are kept/) });
    const left = (await findAccount(store, DIR, null))!;
    expect([left.keyPem, left.pendingKeyPem]).toEqual([keys[0], keys[1]]);
    delete ca.keyChangeFailure;

    // What issue/renew/revoke do first:
    const entry = (await findAccountEntry(store, DIR, null))!;
    const usable = await usableAccount(store, entry, fakeConnector(ca));
    expect(usable.keyPem).toBe(keys[working]);
    expect(usable.pendingKeyPem).toBeUndefined();
    expect((await findAccount(store, DIR, null))!.keyPem).toBe(keys[working]);
    expect(await storedKeys(store)).toEqual([accountKey(DIR, 'ops@example.com')]);
  });

  it('when the store fails after the CA switched, says so; the new key is kept as pending and adopted by the next command', async () => {
    const { store: inner, ca } = await storeWithAccount('ops@example.com');
    let writes = 0;
    const store = flakyStore(inner, () => ++writes === 2); // the pending key is written, the switch is not
    const attempt = rolloverAccountKey(store, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => keys[1]!, ignoreProgress);
    await expect(attempt).rejects.toThrow(`the CA switched ${URL1} to the new key, but the store could not make it the account's key: the store is unreachable`);
    await expect(attempt).rejects.toMatchObject({ hint: expect.stringMatching(/the old key no longer works; the new one is in the store as the account's pending key/) });
    expect(ca.keyPem).toBe(keys[1]);
    expect((await findAccount(inner, DIR, null))!.pendingKeyPem).toBe(keys[1]);
    const view = await showAccount(inner, { directoryUrl: DIR, email: null }, fakeConnector(ca));
    expect(view.pendingKey).toBe('new-key-adopted');
    expect(view.record.keyPem).toBe(keys[1]);
    expect(view.keyThumbprint).toBe(jwkThumbprint(keys[1]!));
    expect('account' in view.ca && view.ca.account.status).toBe('valid');
  });

  it('when the CA answers neither key, changes nothing: issue is refused with the reason, show shows the refusal', async () => {
    const { store, ca } = await storeWithAccount('ops@example.com', { pendingKeyPem: keys[1]!, pendingKeySince: '2026-03-01T00:00:00.000Z' });
    ca.status = 'deactivated'; // deactivated elsewhere: the CA refuses every request for the account
    const entry = (await findAccountEntry(store, DIR, null))!;
    await expect(usableAccount(store, entry, fakeConnector(ca))).rejects.toThrow(
      `a key change of the account ${URL1} was interrupted on 2026-03-01, and the CA accepts a request signed with neither key: unauthorized: Account has been deactivated`,
    );
    const view = await showAccount(store, { directoryUrl: DIR, email: null }, fakeConnector(ca));
    expect(view.pendingKey).toBe('unsettled');
    expect(view.ca).toEqual({ problem: expect.objectContaining({ detail: 'Account has been deactivated' }) });
    expect((await readAccountEntry(store, entry.key))?.rev).toBe(entry.rev);
  });

  it('a rollover run again after an interrupted one that did switch only settles it', async () => {
    const { store, ca } = await storeWithAccount('ops@example.com', { pendingKeyPem: keys[1]!, pendingKeySince: '2026-03-01T00:00:00.000Z' });
    ca.keyPem = keys[1]!; // the CA had switched before the process died
    const result = await rolloverAccountKey(store, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => keys[2]!, ignoreProgress);
    expect(result.outcome).toBe('finished-interrupted');
    expect(ca.keyPem).toBe(keys[1]);
    expect((await findAccount(store, DIR, null))!.keyPem).toBe(keys[1]);
  });
});

describe('account deactivate', () => {
  it('asks first: declined, nothing is sent or changed', async () => {
    const { store, ca } = await storeWithAccount('ops@example.com');
    const result = await deactivateAccount(store, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => false, ignoreProgress);
    expect(result.outcome).toBe('declined');
    expect(ca.calls).toEqual([]);
    expect((await findAccount(store, DIR, null))!.status).toBeUndefined();
  });

  it('deactivates at the CA, keeps the record, and issue/renew are refused with how to register a new account', async () => {
    const { store, ca } = await storeWithAccount('ops@example.com');
    const result = await deactivateAccount(store, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => true, ignoreProgress);
    expect(result).toMatchObject({ outcome: 'deactivated', caStatus: 'deactivated' });
    expect(ca.status).toBe('deactivated');
    const entry = (await findAccountEntry(store, DIR, 'ops@example.com'))!;
    expect(entry.record).toMatchObject({ status: 'deactivated', url: URL1 });
    expect(entry.record.deactivationRequestedAt).toBeUndefined();
    const refused = usableAccount(store, entry, fakeConnector(ca));
    await expect(refused).rejects.toThrow(UsageError);
    await expect(refused).rejects.toThrow(/was deactivated on \d{4}-\d\d-\d\d/);
    await expect(refused).rejects.toMatchObject({ hint: expect.stringContaining(`acmectl account register --server ${DIR} --email ops@example.com --agree-tos`) });
    expect((await deactivateAccount(store, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => true, ignoreProgress)).outcome).toBe('already-deactivated');
  });

  it('when the store fails after the CA deactivated, says so; issue is refused meanwhile, and running it again records it', async () => {
    const { store: inner, ca } = await storeWithAccount('ops@example.com');
    let writes = 0;
    const store = flakyStore(inner, () => ++writes === 2);
    const attempt = deactivateAccount(store, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => true, ignoreProgress);
    await expect(attempt).rejects.toThrow(`the CA deactivated ${URL1}, but the store could not record it: the store is unreachable`);
    const entry = (await findAccountEntry(inner, DIR, null))!;
    expect(entry.record.deactivationRequestedAt).toBeDefined();
    await expect(usableAccount(inner, entry, fakeConnector(ca))).rejects.toThrow(/is being deactivated/);
    // Again: the CA now refuses the account itself, which after our own request means it is deactivated.
    const again = await deactivateAccount(inner, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => true, ignoreProgress);
    expect(again.outcome).toBe('deactivated');
    expect((await findAccount(inner, DIR, null))!.status).toBe('deactivated');
  });

  it('a new registration replaces the deactivated account under the same email, keeping it as history', async () => {
    const { store, ca } = await storeWithAccount('ops@example.com', { formerEmails: ['older@example.com'] });
    await deactivateAccount(store, { directoryUrl: DIR, email: null }, fakeConnector(ca), async () => true, ignoreProgress);
    const replacing = (await findAccountEntry(store, DIR, 'ops@example.com'))!;
    const newCa = { registerAccount: async () => ({ url: 'https://ca.test/acct/2', status: 'valid' }), requiresExternalAccount: false } as unknown as CaClient;
    const { account } = await registerAccount(
      store,
      { directoryUrl: DIR, email: 'ops@example.com', agreeTos: true, eab: null, caBundlePem: null, replacing },
      async () => newCa,
      async () => keys[3]!,
      ignoreProgress,
    );
    expect(account).toMatchObject({ url: 'https://ca.test/acct/2', formerEmails: ['older@example.com'], retired: [{ url: URL1, deactivatedAt: expect.any(String) }] });
    expect(JSON.stringify(account.retired)).not.toContain('PRIVATE KEY');
    expect((await findAccount(store, DIR, 'older@example.com'))?.url).toBe('https://ca.test/acct/2');
  });
});
