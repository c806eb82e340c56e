import { describe, expect, it } from 'vitest';
import { OperationError, UsageError } from '../domain/errors.js';
import { StoreBackend, type FailureDescription } from './backend.js';
import { StoreErrors } from './errors.js';
import type { Entry, PutResult } from './store.js';

/** A backend whose every step is scripted, recording what the base asks of it and in which order. */
class ScriptedBackend extends StoreBackend {
  readonly kind = 'scripted';
  readonly shared = false;
  readonly events: string[] = [];
  failWith: unknown;

  constructor(errors = new StoreErrors('Scripted', 'scripted://host/')) {
    super(errors);
  }

  get(key: string): Promise<Entry | null> {
    return this.run(`read ${key}`, () => {
      if (this.failWith !== undefined) throw this.failWith;
      return null;
    });
  }
  put(): Promise<PutResult> {
    return this.run('write', () => ({ ok: false }) as const);
  }
  delete(): Promise<boolean> {
    return this.run('delete', () => false);
  }
  async *list(_prefix: string): AsyncIterable<string> {
    this.checkOpen();
  }
  protected acquireLock(name: string): bigint {
    this.events.push(`acquire ${name}`);
    return 1n;
  }
  protected renewLock(): boolean {
    return true;
  }
  protected releaseLock(name: string): boolean {
    this.events.push(`release ${name}`);
    return true;
  }
  protected async disconnect(): Promise<void> {
    this.events.push('disconnect');
  }
  protected override describeFailure(error: unknown): FailureDescription {
    return { detail: `scripted: ${(error as Error).message}`, hint: 'try the scripted hint' };
  }
}

describe('StoreBackend', () => {
  it('close() releases the held leases first, then disconnects once, however often and however concurrently it is called', async () => {
    const store = new ScriptedBackend();
    await store.lock('a', { ttlMs: 60_000 });
    await store.lock('b', { ttlMs: 60_000 });
    await Promise.all([store.close(), store.close()]);
    await store.close();
    expect(store.events).toEqual(['acquire a', 'acquire b', 'release a', 'release b', 'disconnect']);
  });

  it('refuses every operation after close(), naming the backend', async () => {
    const store = new ScriptedBackend();
    await store.close();
    await expect(store.get('k')).rejects.toThrow('the Scripted store is closed');
    await expect(store.lock('k', { ttlMs: 1_000 })).rejects.toThrow('the Scripted store is closed');
    await expect(store.list('')[Symbol.asyncIterator]().next()).rejects.toThrow('the Scripted store is closed');
  });

  it('turns a failure of the backend into an OperationError naming the store, with its cause and hint', async () => {
    const store = new ScriptedBackend();
    const cause = new Error('the disk is on fire');
    store.failWith = cause;
    const error = await store.get('certs/x').catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).message).toBe('Scripted store scripted://host/: could not read certs/x: scripted: the disk is on fire');
    expect((error as OperationError).hint).toBe('try the scripted hint');
    expect((error as OperationError).cause).toBe(cause);
  });

  it('lets acmectl’s own errors and programming errors through unchanged', async () => {
    const store = new ScriptedBackend();
    for (const error of [new UsageError('bad input'), new TypeError('bad options'), new RangeError('bad ttl')]) {
      store.failWith = error;
      await expect(store.get('k')).rejects.toBe(error);
    }
  });
});

describe('StoreErrors', () => {
  it('scrubs every secret it knows from the message and the hint', () => {
    const errors = new StoreErrors('Vault', 'vault://host/secret?token=***');
    errors.secrets.add('hvs.s3cret');
    errors.secrets.add(undefined);
    errors.secrets.add('');
    const error = errors.failure('read k', 'Vault said hvs.s3cret is invalid', { hint: 'replace hvs.s3cret' });
    expect(error.message).toBe('Vault store vault://host/secret?token=***: could not read k: Vault said *** is invalid');
    expect(error.hint).toBe('replace ***');
  });
});
