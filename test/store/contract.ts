/**
 * The one Store contract suite. Every backend runs it (`describeStoreContract('sqlite', ...)`), so a
 * behaviour pinned here is a behaviour every backend shares. Each test works under its own random key
 * namespace, so backends whose `open()` reaches shared data (a SQLite file, a Redis server) need no cleanup.
 *
 * Timing: TTL and lease tests wait past an expiry; they never assert that something happened *within* a
 * time, only that it had happened after a generous wait, or had not yet happened when it cannot have. Where
 * a test needs something to be still alive after a wait (a refreshed lease), the margin is seconds, so that a
 * loaded machine cannot cross it. (The stores take no clock to fake: Redis judges expiry by its own clock.)
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OperationError } from '../../src/domain/errors.js';
import { storeKey, storePrefix } from '../../src/store/keys.js';
import { leaseTestControls } from '../../src/store/lease.js';
import type { Lease, Store } from '../../src/store/store.js';

export interface StoreContractSetup {
  /** Opens the backend under test. Called before every test; the suite closes what it opens. */
  open(): Promise<Store>;
  /**
   * A store URL another OS process can open to reach the SAME data as `open()`; undefined for backends that
   * cannot be shared between processes (memory). When given, the cross-process race tests run.
   */
  url?: () => string;
  /**
   * The largest value the backend stores (Consul: 512 KiB, minus whatever envelope the backend adds). The
   * suite then round-trips a value of that size and checks that one byte more fails with an OperationError
   * that says so. Default: no limit below 1 MiB.
   */
  maxValueBytes?: number;
}

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RACE_WORKER = 'test/support/store-race-worker.mjs';
const RACE_ROUNDS = 5;

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function collect<T>(keys: AsyncIterable<T>): Promise<T[]> {
  const found: T[] = [];
  for await (const key of keys) found.push(key);
  return found;
}

function expectStrictlyIncreasing(fences: bigint[]): void {
  for (let i = 1; i < fences.length; i++) {
    expect(fences[i]! > fences[i - 1]!, `fence #${i} (${fences[i]}) > fence #${i - 1} (${fences[i - 1]})`).toBe(true);
  }
}

export function describeStoreContract(backendName: string, setup: StoreContractSetup): void {
  describe(`${backendName} store contract`, () => {
    let store: Store;
    let namespace: string;
    const key = (...segments: string[]): string => storeKey('contract', namespace, ...segments);
    const prefix = (...segments: string[]): string => storePrefix('contract', namespace, ...segments);

    beforeEach(async () => {
      store = await setup.open();
      namespace = randomUUID();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('get and put', () => {
      it('get of a missing key is null', async () => {
        expect(await store.get(key('missing'))).toBeNull();
      });

      const largest = Math.min(setup.maxValueBytes ?? 1024 * 1024, 1024 * 1024);
      it(`round-trips arbitrary bytes: every byte value, an empty value, ${largest} bytes of random bytes`, async () => {
        const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
        const empty = new Uint8Array(0);
        const large = new Uint8Array(randomBytes(largest));
        for (const [name, value] of [['every-byte', everyByte], ['empty', empty], ['large', large]] as const) {
          const written = await store.put(key(name), value);
          expect(written.ok).toBe(true);
          const entry = await store.get(key(name));
          expect(entry, name).not.toBeNull();
          expect(entry!.value).toBeInstanceOf(Uint8Array);
          expect(Buffer.from(entry!.value).equals(Buffer.from(value)), `${name} bytes equal`).toBe(true);
          expect(entry!.rev).toBe(written.ok ? written.rev : undefined);
          expect(entry!.expiresAt).toBeUndefined();
        }
      });

      if (setup.maxValueBytes !== undefined) {
        const limit = setup.maxValueBytes;
        it(`refuses a value over its limit (${limit} bytes) clearly, and stores nothing`, async () => {
          const error = await store.put(key('too-large'), new Uint8Array(limit + 1)).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(OperationError);
          expect((error as Error).message).toMatch(/too large/);
          expect(await store.get(key('too-large'))).toBeNull();
        });
      }

      it('keeps its own copy of the value (the caller may reuse its buffer)', async () => {
        const buffer = encode('original');
        await store.put(key('copy'), buffer);
        buffer.fill(0);
        expect(decode((await store.get(key('copy')))!.value)).toBe('original');
      });

      it('changes the revision on every write', async () => {
        const revs = new Set<string>();
        for (let i = 0; i < 5; i++) {
          const written = await store.put(key('k'), encode(`v${i}`));
          expect(written.ok).toBe(true);
          if (written.ok) revs.add(written.rev);
          expect((await store.get(key('k')))!.rev).toBe(written.ok ? written.rev : '');
        }
        expect(revs.size).toBe(5);
      });

      it('put ifRev with the current revision writes', async () => {
        const first = await store.put(key('k'), encode('one'));
        if (!first.ok) throw new Error('setup write failed');
        const second = await store.put(key('k'), encode('two'), { ifRev: first.rev });
        expect(second.ok).toBe(true);
        const entry = await store.get(key('k'));
        expect(decode(entry!.value)).toBe('two');
        expect(entry!.rev).toBe(second.ok ? second.rev : '');
        expect(entry!.rev).not.toBe(first.rev);
      });

      it('put ifRev with a stale revision fails and leaves the value unchanged', async () => {
        const first = await store.put(key('k'), encode('one'));
        const second = await store.put(key('k'), encode('two'));
        if (!first.ok || !second.ok) throw new Error('setup write failed');
        expect(await store.put(key('k'), encode('three'), { ifRev: first.rev })).toEqual({ ok: false });
        const entry = await store.get(key('k'));
        expect(decode(entry!.value)).toBe('two');
        expect(entry!.rev).toBe(second.rev);
      });

      it('put ifRev on a missing key fails and creates nothing', async () => {
        const other = await store.put(key('other'), encode('x'));
        if (!other.ok) throw new Error('setup write failed');
        expect(await store.put(key('missing'), encode('y'), { ifRev: other.rev })).toEqual({ ok: false });
        expect(await store.put(key('missing'), encode('y'), { ifRev: 'not-a-revision' })).toEqual({ ok: false });
        expect(await store.get(key('missing'))).toBeNull();
      });

      it('put ifAbsent creates a missing key and refuses an existing one', async () => {
        const created = await store.put(key('k'), encode('first'), { ifAbsent: true });
        expect(created.ok).toBe(true);
        expect(await store.put(key('k'), encode('second'), { ifAbsent: true })).toEqual({ ok: false });
        const entry = await store.get(key('k'));
        expect(decode(entry!.value)).toBe('first');
        expect(entry!.rev).toBe(created.ok ? created.rev : '');
      });
    });

    describe('delete', () => {
      it('deletes an entry once; a second delete finds nothing', async () => {
        await store.put(key('k'), encode('v'));
        expect(await store.delete(key('k'))).toBe(true);
        expect(await store.get(key('k'))).toBeNull();
        expect(await store.delete(key('k'))).toBe(false);
        expect(await store.delete(key('never-written'))).toBe(false);
      });

      it('delete ifRev deletes only with the current revision', async () => {
        const first = await store.put(key('k'), encode('one'));
        const second = await store.put(key('k'), encode('two'));
        if (!first.ok || !second.ok) throw new Error('setup write failed');
        expect(await store.delete(key('k'), { ifRev: first.rev })).toBe(false);
        expect(decode((await store.get(key('k')))!.value)).toBe('two');
        expect(await store.delete(key('k'), { ifRev: second.rev })).toBe(true);
        expect(await store.get(key('k'))).toBeNull();
      });

      it('never reuses a revision after delete and re-create: the old revision does not match', async () => {
        const old = await store.put(key('k'), encode('old'));
        if (!old.ok) throw new Error('setup write failed');
        expect(await store.delete(key('k'))).toBe(true);
        const recreated = await store.put(key('k'), encode('new'), { ifAbsent: true });
        if (!recreated.ok) throw new Error('re-create failed');
        expect(recreated.rev).not.toBe(old.rev);
        expect(await store.put(key('k'), encode('stale writer'), { ifRev: old.rev })).toEqual({ ok: false });
        expect(await store.delete(key('k'), { ifRev: old.rev })).toBe(false);
        expect(decode((await store.get(key('k')))!.value)).toBe('new');
      });
    });

    describe('time to live', () => {
      it('reports expiresAt for an entry written with ttlMs, and none for one written without', async () => {
        const before = Date.now();
        await store.put(key('ttl'), encode('v'), { ttlMs: 60_000 });
        await store.put(key('plain'), encode('v'));
        const entry = await store.get(key('ttl'));
        expect(entry).not.toBeNull();
        expect(entry!.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
        expect((await store.get(key('plain')))!.expiresAt).toBeUndefined();
      });

      it('an expired entry disappears from get, list, delete and ifRev', async () => {
        const written = await store.put(key('short'), encode('v'), { ttlMs: 150 });
        if (!written.ok) throw new Error('setup write failed');
        await store.put(key('long'), encode('v'));
        await sleep(300);
        expect(await store.get(key('short'))).toBeNull();
        expect(await collect(store.list(prefix()))).toEqual([key('long')]);
        expect(await store.put(key('short'), encode('w'), { ifRev: written.rev })).toEqual({ ok: false });
        expect(await store.delete(key('short'))).toBe(false);
      });

      it('ifAbsent succeeds over an expired entry', async () => {
        await store.put(key('k'), encode('expiring'), { ttlMs: 150 });
        await sleep(300);
        const created = await store.put(key('k'), encode('fresh'), { ifAbsent: true });
        expect(created.ok).toBe(true);
        const entry = await store.get(key('k'));
        expect(decode(entry!.value)).toBe('fresh');
        expect(entry!.expiresAt).toBeUndefined();
      });

      it('a later write without ttlMs makes the entry permanent', async () => {
        await store.put(key('k'), encode('v1'), { ttlMs: 150 });
        await store.put(key('k'), encode('v2'));
        await sleep(300);
        expect(decode((await store.get(key('k')))!.value)).toBe('v2');
      });
    });

    describe('list', () => {
      it('returns exactly the keys under a prefix, in UTF-8 byte order', async () => {
        const names = ['b', 'a', 'a-b', 'a/b', 'A', '~', 'é', '\uff01', '😀', 'a.b', 'ab'];
        for (const name of [...names].reverse()) await store.put(key('dir', ...name.split('/')), encode(name));
        await store.put(key('dir-sibling', 'x'), encode('not under dir/'));
        await store.put(storeKey('contract', `${namespace}-other`, 'dir', 'a'), encode('other namespace'));
        const expected = names
          .map((name) => key('dir', ...name.split('/')))
          .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
        expect(await collect(store.list(prefix('dir')))).toEqual(expected);
      });

      it('a prefix that is not a whole segment matches keys starting with it', async () => {
        await store.put(key('cert-a'), encode('1'));
        await store.put(key('cert-b'), encode('2'));
        await store.put(key('other'), encode('3'));
        expect(await collect(store.list(key('cert-')))).toEqual([key('cert-a'), key('cert-b')]);
        expect(await collect(store.list(key('cert-a')))).toEqual([key('cert-a')]);
        expect(await collect(store.list(prefix('nothing-here')))).toEqual([]);
      });

      it('treats *, ?, [, %, _ in a prefix literally', async () => {
        for (const name of ['a*b', 'axb', 'a%', 'ab', 'a?c', 'abc', 'a[b]', 'ab]']) {
          await store.put(key(name, '1'), encode(name));
        }
        expect(await collect(store.list(prefix('a*b')))).toEqual([key('a*b', '1')]);
        expect(await collect(store.list(prefix('a%')))).toEqual([key('a%', '1')]);
        expect(await collect(store.list(prefix('a_')))).toEqual([]);
        expect(await collect(store.list(prefix('a?c')))).toEqual([key('a?c', '1')]);
        expect(await collect(store.list(prefix('a[b]')))).toEqual([key('a[b]', '1')]);
        expect(await collect(store.list(key('a*')))).toEqual([key('a*b', '1')]);
      });
    });

    describe('entries (the batched read)', () => {
      it('gives exactly what list and then get of each key give, keys in order, values and revisions intact', async () => {
        const names = ['b', 'a', 'a-b', 'a/b', 'é', '😀', 'ab'];
        for (const name of names) await store.put(key('dir', ...name.split('/')), encode(`value of ${name}`));
        await store.put(key('dir-sibling', 'x'), encode('not under dir/'));
        await store.put(storeKey('contract', `${namespace}-other`, 'dir', 'a'), encode('other namespace'));
        const listed = await collect(store.list(prefix('dir')));
        const expected = await Promise.all(listed.map(async (k) => ({ key: k, entry: await store.get(k) })));
        const batched = await collect(store.entries(prefix('dir')));
        expect(batched.map((e) => e.key)).toEqual(listed);
        expect(batched.map((e) => ({ key: e.key, value: Buffer.from(e.entry.value).toString('utf8'), rev: e.entry.rev }))).toEqual(
          expected.map((e) => ({ key: e.key, value: Buffer.from(e.entry!.value).toString('utf8'), rev: e.entry!.rev })),
        );
        expect(listed).toHaveLength(names.length);
      });

      it('leaves out expired and deleted entries, and treats pattern characters literally', async () => {
        await store.put(key('e', 'kept'), encode('1'));
        await store.put(key('e', 'expiring'), encode('2'), { ttlMs: 150 });
        await store.put(key('e', 'deleted'), encode('3'));
        await store.delete(key('e', 'deleted'));
        await store.put(key('e*', 'x'), encode('4'));
        await sleep(300);
        expect((await collect(store.entries(prefix('e')))).map((e) => e.key)).toEqual([key('e', 'kept')]);
        expect((await collect(store.entries(prefix('e*')))).map((e) => e.key)).toEqual([key('e*', 'x')]);
        expect(await collect(store.entries(prefix('nothing-here')))).toEqual([]);
      });

      it('reads a few hundred entries whole (more than one batch of any backend)', async () => {
        const count = 300;
        for (let i = 0; i < count; i++) await store.put(key('many', String(i).padStart(4, '0')), encode(`v${i}`));
        const read = await collect(store.entries(prefix('many')));
        expect(read.map((e) => Buffer.from(e.entry.value).toString('utf8'))).toEqual(Array.from({ length: count }, (_, i) => `v${i}`));
      });
    });

    describe('locks', () => {
      let lockName: string;
      beforeEach(() => {
        lockName = storeKey('contract', namespace, 'lock');
      });
      const expectHeld = async (name: string): Promise<void> => {
        expect(await store.lock(name, { ttlMs: 10_000 }), `"${name}" is still held`).toBeNull();
      };

      it('a second lock on a held name is null; another name is independent', async () => {
        const lease = await store.lock(lockName, { ttlMs: 10_000 });
        expect(lease).not.toBeNull();
        expect(lease!.name).toBe(lockName);
        expect(typeof lease!.fence).toBe('bigint');
        expect(lease!.signal.aborted).toBe(false);
        await expectHeld(lockName);
        const other = await store.lock(`${lockName}-other`, { ttlMs: 10_000 });
        expect(other).not.toBeNull();
      });

      it('after release the lock can be taken again with a greater fence; release is idempotent', async () => {
        const first = (await store.lock(lockName, { ttlMs: 10_000 }))!;
        await first.release();
        expect(first.signal.aborted).toBe(true);
        await first.release();
        expect(await first.refresh()).toBe(false);
        const second = await store.lock(lockName, { ttlMs: 10_000 });
        expect(second).not.toBeNull();
        expect(second!.fence > first.fence).toBe(true);
      });

      it('fences strictly increase across 20 acquire/release cycles', async () => {
        const fences: bigint[] = [];
        for (let i = 0; i < 20; i++) {
          const lease = await store.lock(lockName, { ttlMs: 10_000 });
          expect(lease, `cycle ${i}`).not.toBeNull();
          fences.push(lease!.fence);
          await lease!.release();
        }
        expectStrictlyIncreasing(fences);
      });

      it('an expired lease can be taken over, and the stale holder’s release leaves the new holder alone', async () => {
        const stale = (await store.lock(lockName, { ttlMs: 150 }))!;
        leaseTestControls(stale).freeze();
        await sleep(300);
        const current = await store.lock(lockName, { ttlMs: 10_000 });
        expect(current, 'expired lease taken over').not.toBeNull();
        expect(current!.fence > stale.fence).toBe(true);
        await stale.release();
        await expectHeld(lockName);
        expect(await current!.refresh()).toBe(true);
        expect(current!.signal.aborted).toBe(false);
      });

      it('a holder whose lease was taken over learns it on refresh: false, and signal aborted as lost', async () => {
        const first = (await store.lock(lockName, { ttlMs: 150 }))!;
        leaseTestControls(first).freeze();
        await sleep(300);
        const second = await store.lock(lockName, { ttlMs: 10_000 });
        expect(second).not.toBeNull();
        expect(first.signal.aborted).toBe(false); // frozen: it cannot know yet
        expect(await first.refresh()).toBe(false);
        expect(first.signal.aborted).toBe(true);
        expect(first.signal.reason).toBeInstanceOf(Error);
        expect((first.signal.reason as Error).message).toMatch(/lost/);
        expect(second!.signal.aborted).toBe(false);
      });

      it('signal is aborted as lost once ttlMs passes without a successful refresh', async () => {
        const lease = (await store.lock(lockName, { ttlMs: 150 }))!;
        leaseTestControls(lease).stopAutoRefresh();
        await sleep(400);
        expect(lease.signal.aborted).toBe(true);
        expect((lease.signal.reason as Error).message).toMatch(/lost/);
        expect(await lease.refresh()).toBe(false);
      });

      // One test for both ways, so that the backends wait out one long TTL, not two. The margins are seconds,
      // not milliseconds: a worker starved of CPU for a second must not turn "still held" into "lost".
      it('a lease lives past its ttl while it is refreshed: by the automatic refresh, and by refresh()', async () => {
        const ttlMs = 4_000;
        const automatic = (await store.lock(`${lockName}-automatic`, { ttlMs }))!;
        const manual = (await store.lock(`${lockName}-manual`, { ttlMs }))!;
        leaseTestControls(manual).stopAutoRefresh();
        // 1.6 s before the first expiry (the automatic refresh runs every ttl/3, 1.33 s).
        await sleep(2_400);
        expect(await manual.refresh(), 'refresh() within the ttl').toBe(true);
        // Past the first expiry at 4 s; the refreshed lease lives until 6.4 s, 1.6 s after this.
        await sleep(2_400);
        expect(automatic.signal.aborted, 'automatically refreshed lease lost').toBe(false);
        expect(manual.signal.aborted, 'lease refreshed by refresh() lost').toBe(false);
        await expectHeld(`${lockName}-automatic`);
        await expectHeld(`${lockName}-manual`);
      });

      it('lock with waitMs waits for the holder and acquires once it releases', async () => {
        const holder = (await store.lock(lockName, { ttlMs: 10_000 }))!;
        let settled = false;
        const waiting = store.lock(lockName, { ttlMs: 10_000, waitMs: 10_000 }).finally(() => {
          settled = true;
        });
        await sleep(200);
        expect(settled, 'still waiting while the lock is held').toBe(false);
        await holder.release();
        const lease = await waiting;
        expect(lease).not.toBeNull();
        expect(lease!.fence > holder.fence).toBe(true);
      });

      it('lock with waitMs gives up with null when the holder keeps the lock', async () => {
        const holder = (await store.lock(lockName, { ttlMs: 10_000 }))!;
        expect(await store.lock(lockName, { ttlMs: 10_000, waitMs: 200 })).toBeNull();
        expect(holder.signal.aborted).toBe(false);
      });
    });

    describe('in-process races', () => {
      it('10 concurrent lock() calls on one name: exactly one lease', async () => {
        const name = storeKey('contract', namespace, 'race-lock');
        const results = await Promise.all(Array.from({ length: 10 }, () => store.lock(name, { ttlMs: 10_000 })));
        expect(results.filter((lease): lease is Lease => lease !== null)).toHaveLength(1);
      });

      it('10 concurrent compare-and-set puts with the same ifRev: exactly one ok, and its value stays', async () => {
        const initial = await store.put(key('cas'), encode('initial'));
        if (!initial.ok) throw new Error('setup write failed');
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.put(key('cas'), encode(`writer-${i}`), { ifRev: initial.rev })),
        );
        const winners = results.flatMap((result, i) => (result.ok ? [{ i, rev: result.rev }] : []));
        expect(winners).toHaveLength(1);
        const entry = await store.get(key('cas'));
        expect(decode(entry!.value)).toBe(`writer-${winners[0]!.i}`);
        expect(entry!.rev).toBe(winners[0]!.rev);
      });

      it('10 concurrent ifAbsent puts of one key: exactly one ok', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.put(key('create'), encode(`writer-${i}`), { ifAbsent: true })),
        );
        expect(results.filter((result) => result.ok)).toHaveLength(1);
      });
    });

    const url = setup.url;
    if (url !== undefined) {
      describe(`cross-process races: two OS processes, ${RACE_ROUNDS} rounds each`, () => {
        it('exactly one process takes the same lock in every round, and closing releases it', async () => {
          const names = Array.from({ length: RACE_ROUNDS }, (_, i) => storeKey('contract', namespace, `race-${i}`));
          const reports = await raceTwoProcesses(url(), { op: 'lock', names, ttlMs: 30_000 });
          const winningFences = names.map((_name, round) => {
            const outcomes = reports.map((report) => report.results[round]!);
            const winners = outcomes.filter((outcome) => outcome.won);
            expect(winners, `round ${round}: ${JSON.stringify(outcomes)}`).toHaveLength(1);
            return BigInt(winners[0]!.fence!);
          });
          // Both workers have closed their stores, which must have released the winning leases.
          for (const [round, name] of names.entries()) {
            const lease = await store.lock(name, { ttlMs: 10_000 });
            expect(lease, `round ${round} lock released on close`).not.toBeNull();
            expect(lease!.fence > winningFences[round]!).toBe(true);
          }
        });

        it('exactly one process wins the same compare-and-set in every round', async () => {
          const keys = Array.from({ length: RACE_ROUNDS }, (_, i) => key(`cas-${i}`));
          const revs: string[] = [];
          for (const k of keys) {
            const written = await store.put(k, encode('initial'));
            if (!written.ok) throw new Error('setup write failed');
            revs.push(written.rev);
          }
          const reports = await raceTwoProcesses(url(), { op: 'cas', keys, revs });
          for (const [round, k] of keys.entries()) {
            const outcomes = reports.map((report) => report.results[round]!);
            const winners = outcomes.filter((outcome) => outcome.won);
            expect(winners, `round ${round}: ${JSON.stringify(outcomes)}`).toHaveLength(1);
            const entry = await store.get(k);
            expect(decode(entry!.value)).toBe(winners[0]!.value);
            expect(entry!.rev).toBe(winners[0]!.rev);
          }
        });

        it('exactly one process creates the same key with ifAbsent in every round', async () => {
          const keys = Array.from({ length: RACE_ROUNDS }, (_, i) => key(`create-${i}`));
          const reports = await raceTwoProcesses(url(), { op: 'create', keys });
          for (const [round, k] of keys.entries()) {
            const outcomes = reports.map((report) => report.results[round]!);
            const winners = outcomes.filter((outcome) => outcome.won);
            expect(winners, `round ${round}: ${JSON.stringify(outcomes)}`).toHaveLength(1);
            expect(decode((await store.get(k))!.value)).toBe(winners[0]!.value);
          }
        });
      });
    }
  });
}

type RaceTask =
  | { op: 'lock'; names: string[]; ttlMs: number }
  | { op: 'cas'; keys: string[]; revs: string[] }
  | { op: 'create'; keys: string[] };

interface RaceOutcome {
  round: number;
  won: boolean;
  /** How late the worker started this round, for diagnosing a failure; never asserted. */
  lateMs: number;
  fence?: string;
  rev?: string;
  value?: string;
}

interface RaceReport {
  pid: number;
  results: RaceOutcome[];
}

/**
 * Runs the task in two worker processes that start each round at the same wall-clock instant (the first
 * ~300 ms from now, so both have opened the store). Each worker prints one JSON report, then holds what it
 * won (leases) until we close its stdin, so the loser can never win merely by arriving after a release.
 */
async function raceTwoProcesses(url: string, task: RaceTask): Promise<RaceReport[]> {
  const startAt = Date.now() + 300;
  const workers = [0, 1].map(() => startRaceWorker(url, startAt, task));
  try {
    const reports = await Promise.all(workers.map((worker) => worker.report));
    for (const worker of workers) worker.child.stdin.end();
    const exitCodes = await Promise.all(workers.map((worker) => worker.exited));
    expect(exitCodes).toEqual([0, 0]);
    return reports;
  } finally {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill();
  }
}

function startRaceWorker(url: string, startAt: number, task: RaceTask) {
  const child = spawn(process.execPath, [RACE_WORKER, url, String(startAt), JSON.stringify(task)], {
    cwd: PROJECT_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const report = new Promise<RaceReport>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(stdout.slice(0, newline)) as RaceReport);
    });
    child.on('error', reject);
    void exited.then((code) =>
      reject(
        new Error(
          `race worker exited (${code}) without a report; is dist/ built (npx tsc -p tsconfig.build.json)?\n${stderr}`,
        ),
      ),
    );
  });
  return { child, report, exited };
}
