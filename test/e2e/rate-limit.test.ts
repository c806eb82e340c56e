import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { runCli } from '../support/cli.js';
import { startRateLimitingProxy } from '../support/rate-limiting-proxy.js';
import type { RateLimitingProxy } from '../support/rate-limiting-proxy.js';
import { tempDir } from '../support/temp-dir.js';

// Pebble behind a stand-in that answers chosen requests with 429 and a Retry-After, as a CA's rate limit does.
let pebble: PebbleHandle;
let proxy: RateLimitingProxy;
beforeAll(async () => {
  // No rejected nonces: a badNonce retry would be one more newOrder through the proxy, and the tests count them.
  pebble = await startPebble({ env: { PEBBLE_WFE_NONCEREJECT: '0' } });
  proxy = await startRateLimitingProxy(pebble);
});
afterAll(async () => {
  await proxy?.stop();
  await pebble?.stop();
});

// Long enough for the next runs to come well before it passes, on a slow machine too.
const RETRY_AFTER_S = 10;
const NEW_ORDER = '/order-plz';

const cli = (home: string, args: string[]) => runCli([...args, '--server', proxy.directoryUrl, '--ca-bundle', pebble.caBundlePath], { home });
const issue = (home: string, name: string, extra: string[] = []) =>
  cli(home, ['issue', name, '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos', ...extra]);
// Pebble's certificates last 5 years: --days 3650 makes them due.
const renewDue = (home: string, extra: string[] = []) => runCli(['renew', '--no-random-sleep', '--days', '3650', ...extra], { home });
const show = (home: string, name: string) => runCli(['show', name], { home });
const showJson = async (home: string, name: string) => JSON.parse((await runCli(['show', name, '--json'], { home })).stdout) as { serial: string; version: number; rateLimit?: { until: string; scope: string; active: boolean } };
const newOrders = () => proxy.count('POST', NEW_ORDER);
const ISO_SECOND = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;

async function sleepUntil(iso: string): Promise<void> {
  const wait = Date.parse(iso) - Date.now() + 200;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

describe('a CA rate limit with Retry-After (429 from a stand-in in front of Pebble)', () => {
  it('is remembered, skipped by the next run without a request, and retried after it passes', async () => {
    const home = tempDir('ratelimit');
    expect((await issue(home, 'rl.example.test')).code).toBe(0);
    const v1 = await showJson(home, 'rl.example.test');

    proxy.refuseNext(NEW_ORDER, { retryAfter: String(RETRY_AFTER_S) });
    const before = newOrders();
    const refused = await renewDue(home);
    expect(refused.code).toBe(1);
    expect(newOrders()).toBe(before + 1);
    expect(refused.stderr).toMatch(/error: rl\.example\.test: the CA refused creating the order: rateLimited: too many new orders recently \(rate-limiting stand-in\)/);
    expect(refused.stderr).toMatch(new RegExp(`hint: the CA asked not to be asked again before ${ISO_SECOND}: acmectl renew tries again after that, and holds back every certificate of this account meanwhile`));
    const held = await showJson(home, 'rl.example.test');
    expect(held.rateLimit).toMatchObject({ active: true });
    const until = held.rateLimit!.until;
    expect(Date.parse(until) - Date.now()).toBeGreaterThan(0);
    expect((await show(home, 'rl.example.test')).stdout).toMatch(new RegExp(`^rate limit: +held back until ${until.replace('.000Z', 'Z')}, with every certificate of its account \\(it said: too many new orders recently`, 'm'));

    // Right away: skipped with one line, no request to the CA at all, and exit 1 (it is overdue).
    const seen = proxy.requests.length;
    const skipped = await renewDue(home);
    expect(skipped.code).toBe(1);
    expect(skipped.stderr.trim()).toBe(
      `error: rl.example.test: held back by the CA's rate limit on its account until ${until.replace('.000Z', 'Z')} (it said: too many new orders recently (rate-limiting stand-in)); acmectl will try again after that`,
    );
    expect(skipped.stdout).toMatch(/0 renewed, 0 not due, 1 held back, 0 failed/);
    const quiet = await renewDue(home, ['-q']);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toMatch(/held back by the CA's rate limit/);
    const json = await renewDue(home, ['--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, heldBack: [{ name: 'rl.example.test', until, scope: 'account' }], failed: [] });
    expect(proxy.requests.length).toBe(seen);

    // Not due: nothing to hold back, exit 0.
    const notDue = await runCli(['renew', '--no-random-sleep'], { home });
    expect(notDue.code).toBe(0);

    // Once the time has passed: renewed, and the memory is gone.
    await sleepUntil(until);
    const renewed = await renewDue(home);
    expect(renewed.stderr).not.toMatch(/error/);
    expect(renewed.code).toBe(0);
    expect(renewed.stdout).toMatch(/^renewed rl\.example\.test/m);
    expect(newOrders()).toBe(before + 2);
    const v2 = await showJson(home, 'rl.example.test');
    expect(v2.version).toBe(v1.version + 1);
    expect(v2.rateLimit).toBeUndefined();
    expect((await show(home, 'rl.example.test')).stdout).not.toMatch(/rate limit/);
  });

  it('holds back a refused first issue, and the other certificates of the account; --force tries anyway and clears the account', async () => {
    const home = tempDir('ratelimit-first');
    proxy.refuseNext(NEW_ORDER, { retryAfter: String(RETRY_AFTER_S), detail: 'too many new orders from this account' });
    const before = newOrders();
    const refused = await issue(home, 'first.example.test');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/rateLimited: too many new orders from this account/);
    expect(refused.stderr).toMatch(/hint: the CA asked not to be asked again before .*: acmectl issue refuses this certificate until then, and holds back every certificate of this account meanwhile \(--force tries sooner\)/);

    const again = await issue(home, 'first.example.test');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`error: first\\.example\\.test is held back by the CA's rate limit on its account until ${ISO_SECOND} \\(it said: too many new orders from this account\\)`));
    expect(again.stderr).toMatch(/hint: try again after that, or add --force to try now/);
    const other = await issue(home, 'other.example.test');
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/other\.example\.test is held back by the CA's rate limit on its account until/);
    expect(newOrders()).toBe(before + 1);

    // --force orders anyway; its success clears the account's memory, not first.example.test's own.
    expect((await issue(home, 'other.example.test', ['--force'])).code).toBe(0);
    expect(newOrders()).toBe(before + 2);
    const stillHeld = await issue(home, 'first.example.test');
    expect(stillHeld.code).toBe(1);
    // Its own memory: the first-issue entry, which outlives the account's.
    expect(stillHeld.stderr).toMatch(new RegExp(`error: first\\.example\\.test is held back by the CA's rate limit until ${ISO_SECOND}`));
    const until = new RegExp(`until (${ISO_SECOND})`).exec(stillHeld.stderr)![1]!;

    await sleepUntil(until);
    expect((await issue(home, 'first.example.test')).code).toBe(0);
    expect(newOrders()).toBe(before + 3);
  });

  it('invents no wait when the CA gives no Retry-After', async () => {
    const home = tempDir('ratelimit-none');
    expect((await issue(home, 'nowait.example.test')).code).toBe(0);
    proxy.refuseNext(NEW_ORDER, {});
    const refused = await renewDue(home);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/rateLimited/);
    expect(refused.stderr).toMatch(/hint: the CA's rate limit was reached: wait before retrying/);
    expect((await showJson(home, 'nowait.example.test')).rateLimit).toBeUndefined();
    const retried = await renewDue(home);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(/^renewed nowait\.example\.test/m);
  });
});
