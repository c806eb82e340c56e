import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { renewalSettings } from '../../test/support/renewal-settings.js';
import { AbortedError, OperationError } from '../domain/errors.js';
import { ignoreProgress } from '../domain/events.js';
import { readDeployedVersion } from '../deploy/deployed-version.js';
import { exportedPaths } from '../deploy/pem-export.js';
import { MemoryStore } from '../store/memory.js';
import { ScriptedCa } from '../../test/support/scripted-ca.js';
import { treeSnapshot } from '../../test/support/store-snapshot.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { certificateKey, decodeRecord, encodeRecord } from './certificate-record.js';
import type { CertificateRecord } from './certificate-record.js';
import { readAllCertificates } from './certificate-list.js';
import { issueCertificate } from './issue.js';
import type { IssueDependencies, IssueResult } from './issue.js';
import type { IssueRequest } from './issue-request.js';

/*
 * The lock → re-read → compare-and-set path of issueCertificate, driven step by step: a scripted CA whose
 * requests the test holds and releases, the memory store, and vitest's fake clock for the 30 s lease (the lease
 * keeper and the memory store read Date.now() and set timers, both of which the fake clock drives). A holder
 * "paused" for a while (a stopped process, a frozen VM) is the clock jumping ahead without its timers firing.
 */

const NAME = 'www.example';
const KEY = certificateKey(NAME);
const LEASE_TTL_MS = 30_000;
const REFRESH_EVERY_MS = LEASE_TTL_MS / 3;

// The store's types as the core sees them (src/store's own modules are being reorganised: only memory.ts is imported).
type Store = IssueDependencies['store'];
type LockOptions = Parameters<Store['lock']>[1];
type Lease = NonNullable<Awaited<ReturnType<Store['lock']>>>;

/** Jumps the clock ahead by `ms` without firing timers: whoever holds a lease was paused meanwhile. */
const pauseEveryone = (ms: number): void => void vi.setSystemTime(Date.now() + ms);

/** The memory store, keeping the leases it hands out and telling when the n-th lock was asked for. */
class WatchedStore {
  readonly store: Store;
  readonly leases: Lease[] = [];
  /** Reads of single entries (get) so far. */
  reads = 0;
  #requests = 0;
  readonly #waiters: { count: number; resolve: () => void }[] = [];

  constructor(inner = new MemoryStore()) {
    this.store = new Proxy(inner, {
      get: (target, property) => {
        if (property === 'lock') return (name: string, options: LockOptions) => this.#lock(target, name, options);
        if (property === 'get') {
          return (key: string) => {
            this.reads += 1;
            return target.get(key);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  /** Resolves once `count` locks have been asked for in all (the asker may still be waiting for it). */
  lockRequested(count: number): Promise<void> {
    if (this.#requests >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  async #lock(target: MemoryStore, name: string, options: LockOptions): Promise<Lease | null> {
    this.#requests += 1;
    for (const waiter of this.#waiters.filter((w) => w.count <= this.#requests)) waiter.resolve();
    const lease = await target.lock(name, options);
    if (lease) this.leases.push(lease);
    return lease;
  }
}

/** One test's world: a scripted CA, the watched memory store, and the runs started in it. */
class Scene {
  readonly ca = new ScriptedCa();
  readonly watched = new WatchedStore();
  readonly #running: Promise<unknown>[] = [];

  get store(): Store {
    return this.watched.store;
  }

  /** Starts issueCertificate as the host with export directory `exportDir` would. */
  issue(exportDir: string, overrides: Partial<IssueRequest> = {}): Promise<IssueResult> {
    const run = issueCertificate(request(this.ca, overrides), host(this.store, this.ca, exportDir));
    this.#running.push(run.catch(() => {}));
    return run;
  }

  /**
   * Lets every run finish, also when the test failed halfway (a run left holding the CA or waiting for the lock
   * would write into a temporary directory after it was removed): holds released, the store closed, the clock
   * moved on so that lock waiters see it closed.
   */
  async end(): Promise<void> {
    this.ca.releaseAll();
    await this.store.close();
    await vi.advanceTimersByTimeAsync(LEASE_TTL_MS);
    await Promise.all(this.#running);
  }
}

const scenes: Scene[] = [];
function scene(): Scene {
  const made = new Scene();
  scenes.push(made);
  return made;
}

function request(ca: ScriptedCa, overrides: Partial<IssueRequest> = {}): IssueRequest {
  return {
    name: NAME,
    identifiers: [{ type: 'dns', value: NAME }],
    settings: renewalSettings({ server: ca.directoryUrl, email: 'ops@example.com' }),
    force: false,
    account: { email: 'ops@example.com', agreeTos: true, eab: null },
    ...overrides,
  };
}

/** What one host (its own export directory) gives issueCertificate. */
function host(store: Store, ca: ScriptedCa, exportDir: string): IssueDependencies {
  return {
    store,
    connect: ca.connect,
    solver: ca.solver,
    progress: ignoreProgress,
    orderTimeoutMs: 60_000,
    pkcs12Password: () => {
      throw new Error('no PKCS#12 export in these tests');
    },
    defaultExportDir: exportDir,
  };
}

async function stored(store: Store): Promise<{ rev: string; record: CertificateRecord }> {
  const entry = await store.get(KEY);
  if (!entry) throw new Error(`nothing stored under ${KEY}`);
  return { rev: entry.rev, record: decodeRecord(entry.value, KEY) };
}

/** What a run that should fail failed with; null when it succeeded. */
const failureOf = (run: Promise<unknown>): Promise<unknown> => run.then(() => null, (error: unknown) => error);

const exportedCert = (dir: string): string => readFileSync(exportedPaths(dir, NAME).cert, 'utf8');

beforeEach(() => {
  // Only what the lease keeper and the memory store use: key generation and file writes go on in real time.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
// afterEach runs before the removal of the test's temporary directories (onTestFinished).
afterEach(async () => {
  await Promise.all(scenes.splice(0).map((s) => s.end()));
  vi.useRealTimers();
});

describe('issueCertificate with nothing to do', () => {
  it('decides on the record the run already read (storedRecord): no store read, no lock, no file written', async () => {
    const world = scene();
    const { watched, store } = world;
    const dir = tempDir('core-issue');
    await world.issue(dir);
    const { record } = await stored(store);
    const files = treeSnapshot(dir);
    const [reads, locks] = [watched.reads, watched.leases.length];

    const result = await world.issue(dir, { storedRecord: record });
    expect(result.outcome).toBe('unchanged');
    expect(watched.reads - reads).toBe(0);
    expect(watched.leases).toHaveLength(locks);
    expect(treeSnapshot(dir)).toEqual(files);

    // Without it, the first look reads the record (what the run's batched read saves, per certificate).
    expect((await world.issue(dir)).outcome).toBe('unchanged');
    expect(watched.reads - reads).toBe(1);
  });

  it('a run reads every record in one batched read, not one read per certificate', async () => {
    const world = scene();
    const { watched, store } = world;
    const dir = tempDir('core-issue');
    const names = ['a.example', 'b.example', 'c.example'];
    for (const name of names) await world.issue(dir, { name, identifiers: [{ type: 'dns', value: name }] });
    const reads = watched.reads;
    const records = await readAllCertificates(store);
    expect(records.map((r) => r.name).sort()).toEqual(names);
    expect(watched.reads - reads).toBe(0);
  });

  it('writes the files of a host that lacks them from the record the run read, still without a lock', async () => {
    const world = scene();
    const { watched, store } = world;
    await world.issue(tempDir('core-issue'));
    const { record } = await stored(store);
    const elsewhere = tempDir('core-issue');
    const locks = watched.leases.length;
    const result = await world.issue(elsewhere, { storedRecord: record });
    expect(result.outcome === 'unchanged' && result.filesUpdated).toBe(true);
    expect(exportedCert(elsewhere)).toBe(record.current.certPem);
    expect(watched.leases).toHaveLength(locks);
  });
});

describe('issueCertificate under the lock', () => {
  it('lets one of two issuers racing for a new certificate order it; the other waits for the lock and adopts the stored version', async () => {
    const world = scene();
    const { ca, watched, store } = world;
    const [hereDir, thereDir] = [tempDir('core-issue'), tempDir('core-issue')];
    const atTheCa = ca.hold('newOrder');
    const first = world.issue(hereDir);
    await atTheCa.reached; // the first holds the lock and is ordering
    const second = world.issue(thereDir);
    await watched.lockRequested(2); // the second found no certificate and waits for the lock

    // An order longer than the lease's 30 s keeps the lock: the lease refreshes itself.
    await vi.advanceTimersByTimeAsync(2 * LEASE_TTL_MS);
    expect(watched.leases).toHaveLength(1);
    atTheCa.release();
    const issued = await first;
    await vi.advanceTimersByTimeAsync(250); // the second's next attempt at the lock
    const adopted = await second;

    expect(issued.outcome).toBe('issued');
    expect(adopted.outcome).toBe('renewed-elsewhere');
    expect(adopted.record.current.serial).toBe(issued.record.current.serial);
    expect(ca.calls('newOrder')).toBe(1);
    expect(ca.calls('finalize')).toBe(1);
    expect((await stored(store)).record.current).toEqual(issued.record.current);
    // The second host wrote the adopted version's files to its own directory.
    expect(adopted.outcome === 'renewed-elsewhere' && adopted.filesUpdated).toBe(true);
    expect(exportedCert(thereDir)).toBe(issued.record.current.certPem);
    expect(exportedCert(hereDir)).toBe(issued.record.current.certPem);
  });

  it('stores nothing and leaves the files alone when the lease is lost between finalize and store', async () => {
    const world = scene();
    const { ca, watched, store } = world;
    const dir = tempDir('core-issue');
    await world.issue(dir);
    const before = await stored(store);
    const files = treeSnapshot(dir);

    const downloading = ca.hold('download');
    const renewal = failureOf(world.issue(dir, { force: true }));
    await downloading.reached; // finalized: the CA issued the new certificate
    const lease = watched.leases[1]!;
    pauseEveryone(LEASE_TTL_MS); // the lease expires in the store
    await vi.advanceTimersByTimeAsync(REFRESH_EVERY_MS); // the holder's next refresh is refused
    expect(lease.signal.aborted).toBe(true);
    downloading.release();

    const error = await renewal;
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).message).toBe(`lost the lock on "${NAME}" while ordering; the new certificate was not stored`);
    expect(ca.calls('finalize')).toBe(2);
    expect(await stored(store)).toEqual(before);
    expect(treeSnapshot(dir)).toEqual(files);
    expect(await readDeployedVersion(dir, NAME)).toBe(1);
  });

  it('hands the lock of a holder paused for 30 s to a waiting issuer, not before; the paused holder stores nothing', async () => {
    const world = scene();
    const { ca, watched, store } = world;
    const [hereDir, thereDir] = [tempDir('core-issue'), tempDir('core-issue')];
    await world.issue(hereDir);
    const files = treeSnapshot(hereDir);

    const finalizing = ca.hold('finalize');
    const paused = failureOf(world.issue(hereDir, { force: true }));
    await finalizing.reached;
    const pausedLease = watched.leases[1]!;
    const waiting = world.issue(thereDir, { force: true });
    await watched.lockRequested(3);

    // The waiter tries again at least every 250 ms: once or more in the last 300 ms of the lease.
    pauseEveryone(LEASE_TTL_MS - 300);
    await vi.advanceTimersByTimeAsync(299);
    expect(watched.leases).toHaveLength(2);

    await vi.advanceTimersByTimeAsync(1 + 250); // the lease's end, and the waiter's next attempt
    expect(watched.leases).toHaveLength(3);
    const renewed = await waiting;
    expect(renewed.outcome).toBe('issued');
    // The version records the lease that wrote it: a later fence than the paused holder's.
    const takeover = watched.leases[2]!;
    expect(takeover.fence).toBeGreaterThan(pausedLease.fence);
    expect(renewed.record.current.fence).toBe(String(takeover.fence));

    await vi.advanceTimersByTimeAsync(REFRESH_EVERY_MS); // the paused holder wakes up: its refresh is refused
    expect(pausedLease.signal.aborted).toBe(true);
    finalizing.release();
    const error = await paused;
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).message).toMatch(new RegExp(`^lost the lock lease on "${KEY}" \\(fence ${pausedLease.fence}\\): it expired or another holder took it over`));
    const now = await stored(store);
    expect(now.record.current).toEqual(renewed.record.current);
    expect(now.record.current.version).toBe(2);
    expect(treeSnapshot(hereDir)).toEqual(files);
  });

  it('refuses to overwrite a version another process stored while this one was ordering under the lock', async () => {
    const world = scene();
    const { ca, store } = world;
    const dir = tempDir('core-issue');
    await world.issue(dir);
    const files = treeSnapshot(dir);

    const downloading = ca.hold('download');
    const renewal = failureOf(world.issue(dir, { force: true }));
    await downloading.reached;
    // A writer that does not take the lock (a holder that lost its lease and wrote anyway, an older acmectl).
    const { record: first } = await stored(store);
    const theirs: CertificateRecord = { ...first, current: { ...first.current, version: 2, serial: '0BADC0DE', fence: '99' }, history: [first.current] };
    const written = await store.put(KEY, encodeRecord(theirs));
    downloading.release();

    const error = await renewal;
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toBe(`the certificate "${NAME}" was changed by another process while this one was ordering; not overwriting it`);
    expect(await stored(store)).toEqual({ rev: written.ok && written.rev, record: theirs });
    expect(treeSnapshot(dir)).toEqual(files);
  });

  it('adopts a version another node stored after this run began (--force on every node of a fleet renews once)', async () => {
    const world = scene();
    const { ca } = world;
    const [hereDir, thereDir] = [tempDir('core-issue'), tempDir('core-issue')];
    await world.issue(hereDir);
    await world.issue(thereDir); // both hosts have version 1

    await vi.advanceTimersByTimeAsync(1_000);
    const startedAt = new Date(); // both runs begin
    await vi.advanceTimersByTimeAsync(1_000);
    const forced = (dir: string) => world.issue(dir, { force: true, startedAt });
    const there = await forced(thereDir); // the other node got there first
    // This node reads version 2 already: the serial under the lock is the one it read, but version 2 was issued
    // after this run began, so it is the renewal this run was about to make.
    const here = await forced(hereDir);

    expect(there.outcome).toBe('issued');
    expect(here.outcome).toBe('renewed-elsewhere');
    expect(here.record.current).toEqual(there.record.current);
    expect(ca.calls('newOrder')).toBe(2);
    expect(exportedCert(hereDir)).toBe(there.record.current.certPem);
    expect(await readDeployedVersion(hereDir, NAME)).toBe(2);
  });
});
