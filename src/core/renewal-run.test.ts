import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { renewalSettings } from '../../test/support/renewal-settings.js';
import { AcmeProblemError } from '../acme/problem.js';
import type { SolverPool } from '../challenge/solver-pool.js';
import { runHook } from '../deploy/hooks.js';
import { ignoreProgress } from '../domain/events.js';
import { MemoryStore } from '../store/memory.js';
import { ScriptedCa } from '../../test/support/scripted-ca.js';
import { tempDir } from '../../test/support/temp-dir.js';
import type { RenewalSettings } from './certificate-record.js';
import { issueCertificate } from './issue.js';
import type { IssueDependencies } from './issue.js';
import type { IssueRequest } from './issue-request.js';
import { runRenewals } from './renewal-run.js';
import type { RunDependencies, RunOptions, RunSummary } from './renewal-run.js';

/*
 * runRenewals with the scripted CA, the memory store and real hook commands (/bin/sh, as the CLI runs them)
 * that append a line to a log: which hooks ran, how often, in what order, with what environment.
 */

function request(ca: ScriptedCa, name: string, hooks: Partial<RenewalSettings['hooks']> = {}): IssueRequest {
  return {
    name,
    identifiers: [{ type: 'dns', value: name }],
    settings: renewalSettings({ server: ca.directoryUrl, hooks: { pre: null, post: null, deploy: null, failure: null, ...hooks } }),
    force: false,
    account: { email: null, agreeTos: true, eab: null },
  };
}

// The store as the core sees it (src/store's own modules are being reorganised: only memory.ts is imported).
type Store = IssueDependencies['store'];

const noPkcs12 = (): string => {
  throw new Error('no PKCS#12 export in these tests');
};

/** One host: its export directory, the shared store and CA. */
function host(store: Store, ca: ScriptedCa, exportDir: string): RunDependencies & IssueDependencies {
  // Every certificate is answered by the scripted CA's solver; nothing to close.
  const solvers = { solverFor: async () => ca.solver, closeAll: async () => {} };
  return {
    store,
    connect: ca.connect,
    solver: ca.solver,
    solvers: solvers as unknown as SolverPool,
    progress: ignoreProgress,
    orderTimeoutMs: 60_000,
    pkcs12Password: noPkcs12,
    defaultExportDir: exportDir,
    runHook,
    sleep: async () => {
      throw new Error('these runs ask for no delay before the first order');
    },
  };
}

/** Hook commands that append a line (shell expansions of the hook's environment included) to a log file. */
function hookLog(dir: string): { append: (line: string) => string; lines: () => string[] } {
  const path = join(dir, 'hooks.log');
  return {
    append: (line) => `echo "${line}" >> '${path}'`,
    lines: () => (existsSync(path) ? readFileSync(path, 'utf8').trimEnd().split('\n') : []),
  };
}

function runOptions(hooks: Partial<RunOptions['hooks']>): RunOptions {
  return { concurrency: 2, hooks: { pre: null, post: null, deploy: null, failure: null, ...hooks }, runHooks: true, hookTimeoutMs: 10_000, delayBeforeFirstOrderMs: 0 };
}

const outcomes = (summary: RunSummary): Record<string, string> => Object.fromEntries(summary.items.map((item) => [item.name, item.outcome]));

describe('runRenewals and its concurrency', () => {
  it('orders at most `concurrency` certificates at once, while certificates with nothing to order get their files meanwhile', async () => {
    const ca = new ScriptedCa();
    const store = new MemoryStore();
    const existing = ['x.example', 'y.example', 'z.example'];
    for (const name of existing) await issueCertificate(request(ca, name), host(store, ca, tempDir('core-run')));
    const newHost = tempDir('core-run'); // a new fleet host: none of the files yet
    const ordered = ca.calls('newOrder');
    const holds = [ca.hold('newOrder'), ca.hold('newOrder')];
    const fresh = ['a.example', 'b.example', 'c.example', 'd.example'];
    const run = runRenewals([...fresh, ...existing].map((name) => request(ca, name)), runOptions({}), host(store, ca, newHost));

    await Promise.all(holds.map((h) => h.reached)); // two orders hold both order slots (concurrency 2)
    await vi.waitFor(() => expect(existing.every((name) => existsSync(join(newHost, name, 'cert.pem')))).toBe(true));
    expect(ca.calls('newOrder') - ordered).toBe(2);
    for (const h of holds) h.release();
    const summary = await run;
    expect(outcomes(summary)).toEqual({ 'a.example': 'issued', 'b.example': 'issued', 'c.example': 'issued', 'd.example': 'issued', 'x.example': 'unchanged', 'y.example': 'unchanged', 'z.example': 'unchanged' });
    expect(ca.calls('newOrder') - ordered).toBe(4);
  });
});

describe('runRenewals and the hooks', () => {
  it('runs the pre and the post hook once per run and the deploy hook once per renewed certificate', async () => {
    const ca = new ScriptedCa();
    const store = new MemoryStore();
    const dir = tempDir('core-run');
    const log = hookLog(dir);
    await issueCertificate(request(ca, 'c.example'), host(store, ca, dir)); // valid and not due
    const hooks = {
      pre: log.append('pre'),
      post: log.append('post renewed=[$ACMECTL_RENEWED] failed=[$ACMECTL_FAILED]'),
      deploy: log.append('deploy $ACMECTL_CERT_NAME'),
    };

    // Stored hooks that are the run's own commands run once, not once more.
    const requests = [request(ca, 'a.example', { deploy: hooks.deploy }), request(ca, 'b.example', { pre: hooks.pre, post: hooks.post }), request(ca, 'c.example')];
    const summary = await runRenewals(requests, runOptions(hooks), host(store, ca, dir));

    expect(outcomes(summary)).toEqual({ 'a.example': 'issued', 'b.example': 'issued', 'c.example': 'unchanged' });
    expect(summary.failed).toBe(false);
    const lines = log.lines();
    expect(lines[0]).toBe('pre');
    expect(lines.slice(1, -1).sort()).toEqual(['deploy a.example', 'deploy b.example']);
    expect(lines.at(-1)).toBe('post renewed=[a.example b.example] failed=[]');
    expect(lines).toHaveLength(4);
    expect(summary.hooks.map((h) => [h.kind, h.ok])).toEqual([['pre', true], ['deploy', true], ['deploy', true], ['post', true]]);
  });

  it('runs the post hook also when a certificate failed, naming it; the failed one gets no deploy hook', async () => {
    const ca = new ScriptedCa();
    const store = new MemoryStore();
    const dir = tempDir('core-run');
    const log = hookLog(dir);
    ca.hold('newOrder', 'a.example').fail(new AcmeProblemError('the CA refused creating the order', { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'a.example is forbidden' }));
    const hooks = { pre: log.append('pre'), post: log.append('post renewed=[$ACMECTL_RENEWED] failed=[$ACMECTL_FAILED]'), deploy: log.append('deploy $ACMECTL_CERT_NAME') };

    const summary = await runRenewals([request(ca, 'a.example'), request(ca, 'b.example')], runOptions(hooks), host(store, ca, dir));

    expect(outcomes(summary)).toEqual({ 'a.example': 'failed', 'b.example': 'issued' });
    const failed = summary.items.find((item) => item.name === 'a.example');
    expect(failed?.outcome === 'failed' && failed.error).toBeInstanceOf(AcmeProblemError);
    expect(summary.failed).toBe(true);
    expect(log.lines()).toEqual(['pre', 'deploy b.example', 'post renewed=[b.example] failed=[a.example]']);
  });

  it('runs no pre or post hook when nothing was ordered, and the deploy hook of a certificate another node renewed', async () => {
    const ca = new ScriptedCa();
    const store = new MemoryStore();
    const [hereDir, thereDir] = [tempDir('core-run'), tempDir('core-run')];
    const log = hookLog(hereDir);
    await issueCertificate(request(ca, 'c.example'), host(store, ca, hereDir));
    await issueCertificate(request(ca, 'd.example'), host(store, ca, hereDir));
    await issueCertificate({ ...request(ca, 'd.example'), force: true }, host(store, ca, thereDir)); // version 2, not yet here
    const ordered = ca.calls('newOrder');
    const hooks = { pre: log.append('pre'), post: log.append('post'), deploy: log.append('deploy $ACMECTL_CERT_NAME $RENEWED_LINEAGE') };

    const summary = await runRenewals([request(ca, 'c.example'), request(ca, 'd.example')], runOptions(hooks), host(store, ca, hereDir));

    expect(outcomes(summary)).toEqual({ 'c.example': 'unchanged', 'd.example': 'unchanged' });
    expect(summary.items.map((item) => 'filesUpdated' in item && item.filesUpdated)).toEqual([false, true]);
    expect(ca.calls('newOrder')).toBe(ordered);
    expect(log.lines()).toEqual([`deploy d.example ${join(hereDir, 'd.example')}`]);
    expect(summary.failed).toBe(false);
  });
});

describe('runRenewals and the failure hook', () => {
  it('runs the failure hook once after a run in which certificates failed, with their names and reasons', async () => {
    const ca = new ScriptedCa();
    const store = new MemoryStore();
    const dir = tempDir('core-run');
    const log = hookLog(dir);
    ca.hold('newOrder', 'a.example').fail(new AcmeProblemError('the CA refused creating the order', { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'a.example is forbidden' }));
    ca.hold('newOrder', 'b.example').fail(new AcmeProblemError('the CA refused creating the order', { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'b.example too' }));
    const failure = log.append('failure [$ACMECTL_FAILED] $(printf %s "$ACMECTL_FAILURES" | tr "\\n" "|")');
    // The same command stored with a certificate and given for the run runs once.
    const requests = [request(ca, 'a.example', { failure }), request(ca, 'b.example'), request(ca, 'c.example')];

    const summary = await runRenewals(requests, runOptions({ post: log.append('post'), failure }), host(store, ca, dir));

    expect(outcomes(summary)).toEqual({ 'a.example': 'failed', 'b.example': 'failed', 'c.example': 'issued' });
    const lines = log.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('post');
    expect(lines[1]).toMatch(/^failure \[a\.example b\.example\] a\.example: .*a\.example is forbidden.*\|b\.example: .*b\.example too/);
    expect(summary.hooks.map((h) => h.kind)).toEqual(['post', 'failure']);
  });

  it('runs a stored failure hook of the failed certificate only, and none when nothing failed', async () => {
    const ca = new ScriptedCa();
    const store = new MemoryStore();
    const dir = tempDir('core-run');
    const log = hookLog(dir);
    const ok = await runRenewals([request(ca, 'a.example', { failure: log.append('failure a') })], runOptions({}), host(store, ca, dir));
    expect(ok.failed).toBe(false);
    expect(log.lines()).toEqual([]);

    ca.hold('newOrder', 'c.example').fail(new AcmeProblemError('the CA refused creating the order', { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'no' }));
    const requests = [request(ca, 'b.example', { failure: log.append('failure of b') }), request(ca, 'c.example', { failure: log.append('failure of c [$ACMECTL_FAILED]') })];
    await runRenewals(requests, runOptions({}), host(store, ca, dir));
    expect(log.lines()).toEqual(['failure of c [c.example]']);
  });

  it('counts a failed deploy hook as a failure of its certificate', async () => {
    const ca = new ScriptedCa();
    const store = new MemoryStore();
    const dir = tempDir('core-run');
    const log = hookLog(dir);
    const summary = await runRenewals([request(ca, 'a.example')], runOptions({ deploy: 'exit 3', failure: log.append('failure [$ACMECTL_FAILED] $ACMECTL_FAILURES') }), host(store, ca, dir));
    expect(summary.failed).toBe(true);
    expect(log.lines()).toEqual(['failure [a.example] a.example: deploy hook "exit 3" failed with exit code 3']);
  });
});
