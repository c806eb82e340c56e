import { describe, expect, it, vi } from 'vitest';

// The scripted CA below hands out fixed certificates, for no particular key: the check of the leaf against the
// key and names has its own tests (leaf-check.test.ts); here it is only seen to be called.
vi.mock('./leaf-check.js', () => ({ checkIssuedCertificate: vi.fn() }));
import type { Http01Challenge, Http01Solver } from '../domain/http01.js';
import type { Identifier } from '../domain/identifiers.js';
import type { AcmeAuthorization, AcmeOrder, CaClient } from './client.js';
import { generatePrivateKey, jwkThumbprint } from '../pki/keys.js';
import { obtainCertificate } from './obtain-certificate.js';
import { AcmeProblemError } from './problem.js';
import { checkIssuedCertificate } from './leaf-check.js';
import { intermediate, leaf, root } from '../../test/support/test-pki.js';

// The CA's default chain goes up to "Root A"; the one alternate it offers to "Root B".
const rootA = root('Root A');
const rootB = root('Root B');
const issuing = intermediate('Issuing CA', rootA);
const certificate = leaf('a.example.com', issuing);
const chains = { default: certificate + issuing.pem, alternate: certificate + intermediate('Issuing CA', rootB, issuing).pem };

/**
 * A scripted CA (an in-memory stand-in for CaClient): each name's authorization turns valid, or invalid
 * with a problem, once its challenge is answered.
 */
function scriptedCa(outcomes: Record<string, 'valid' | { type: string; detail: string }>, tokens: Record<string, string> = {}, finalizeRetryAfterMs?: number) {
  const answered = new Set<string>();
  const names = Object.keys(outcomes);
  const order: AcmeOrder = {
    url: 'https://ca.test/order/1',
    status: 'pending',
    identifiers: names.map((value) => ({ type: 'dns', value })),
    authorizations: names.map((n) => `https://ca.test/authz/${n}`),
    finalize: 'https://ca.test/order/1/finalize',
  };
  const authz = (name: string): AcmeAuthorization => {
    const outcome = outcomes[name]!;
    const done = answered.has(name);
    const status = !done ? 'pending' : outcome === 'valid' ? 'valid' : 'invalid';
    return {
      url: `https://ca.test/authz/${name}`,
      status,
      identifier: { type: 'dns', value: name },
      challenges: [
        { type: 'dns-01', url: `https://ca.test/chall/dns/${name}`, status: 'pending', token: 'dnstoken' },
        {
          type: 'http-01',
          url: `https://ca.test/chall/${name}`,
          status,
          token: tokens[name] ?? `token-${name.replace(/\./g, '_')}`,
          ...(done && outcome !== 'valid' ? { error: { ...outcome, status: 403 } } : {}),
        },
      ],
    };
  };
  let finalized = false;
  const ca = {
    /** When each request was made (ms since the epoch), by method. */
    calls: [] as { method: string; at: number }[],
    newOrder: async () => order,
    getAuthorization: async (url: string) => ({ value: authz(url.split('/').pop()!) }),
    respondToChallenge: async (url: string) => void answered.add(url.split('/').pop()!),
    getOrder: async () => {
      ca.calls.push({ method: 'getOrder', at: Date.now() });
      return { value: { ...order, status: finalized ? 'valid' : 'ready', certificate: 'https://ca.test/cert/1' } as AcmeOrder };
    },
    finalize: async () => {
      ca.calls.push({ method: 'finalize', at: Date.now() });
      finalized = true;
      return { value: { ...order, status: 'processing' } as AcmeOrder, ...(finalizeRetryAfterMs === undefined ? {} : { retryAfterMs: finalizeRetryAfterMs }) };
    },
    downloadCertificate: async (url: string) =>
      url === 'https://ca.test/cert/1' ? { pem: chains.default, alternates: ['https://ca.test/cert/1/alt'] } : { pem: chains.alternate, alternates: [] },
  };
  return ca as unknown as CaClient;
}

/** Records how presentations overlap and what is left presented. */
function recordingSolver(failFor?: string): Http01Solver & { live: Set<string>; maxConcurrent: number; presented: Http01Challenge[] } {
  let inFlight = 0;
  const solver = {
    description: 'recording',
    live: new Set<string>(),
    maxConcurrent: 0,
    presented: [] as Http01Challenge[],
    async present(challenge: Http01Challenge) {
      inFlight++;
      solver.maxConcurrent = Math.max(solver.maxConcurrent, inFlight);
      solver.live.add(challenge.token);
      solver.presented.push(challenge);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight--;
      if (challenge.identifier === failFor) throw new Error(`cannot present ${failFor}`);
    },
    async cleanUp(challenge: Http01Challenge) {
      solver.live.delete(challenge.token);
    },
    async close() {},
  };
  return solver;
}

async function run(ca: CaClient, solver: Http01Solver, names: string[], preferredChain: string | null = null) {
  const accountKeyPem = await generatePrivateKey('ec256');
  const identifiers: Identifier[] = names.map((value) => ({ type: 'dns', value }));
  const events: string[] = [];
  const promise = obtainCertificate(ca, {
    identifiers,
    certificateKeyPem: await generatePrivateKey('ec256'),
    accountKeyPem,
    solver,
    deadline: Date.now() + 10_000,
    preferredChain,
    progress: (e) => events.push(`${e.step}:${e.phase}:${e.id ?? ''}`),
  });
  return { promise, accountKeyPem, events };
}

describe('obtainCertificate', () => {
  it('presents every authorization in parallel with the exact key authorization, then cleans up', async () => {
    const solver = recordingSolver();
    const { promise, accountKeyPem, events } = await run(scriptedCa({ 'a.example.com': 'valid', 'b.example.com': 'valid', 'c.example.com': 'valid' }), solver, ['a.example.com', 'b.example.com', 'c.example.com']);
    const result = await promise;
    expect(result).toMatchObject({ chainPem: chains.default, topIssuer: 'Root A', warnings: [] });
    expect(checkIssuedCertificate).toHaveBeenCalledWith(chains.default, expect.objectContaining({ identifiers: ['a.example.com', 'b.example.com', 'c.example.com'].map((value) => ({ type: 'dns', value })) }));
    expect(solver.maxConcurrent).toBe(3);
    expect(solver.presented.map((c) => c.keyAuthorization)).toEqual(solver.presented.map((c) => `${c.token}.${jwkThumbprint(accountKeyPem)}`));
    expect(solver.live.size).toBe(0);
    expect(events).toContain('authorization:done:b.example.com');
    expect(events).toContain('finalize:done:');
  });

  it('stores the chain to the preferred issuer, and passes on the warning when none leads there', async () => {
    const preferred = await (await run(scriptedCa({ 'a.example.com': 'valid' }), recordingSolver(), ['a.example.com'], 'Root B')).promise;
    expect(preferred).toMatchObject({ chainPem: chains.alternate, topIssuer: 'Root B', warnings: [] });
    const { promise, events } = await run(scriptedCa({ 'a.example.com': 'valid' }), recordingSolver(), ['a.example.com'], 'Root X');
    const kept = await promise;
    expect(kept).toMatchObject({ chainPem: chains.default, topIssuer: 'Root A' });
    expect(kept.warnings).toEqual(['no chain offered by the CA has the issuer "Root X"; kept the default chain whose top issuer is "Root A" (offered: "Root A", "Root B")']);
    expect(events).toContain('download:done:');
  });

  it('cleans up every presented challenge when validation fails, and names the failing identifier', async () => {
    const solver = recordingSolver();
    const ca = scriptedCa({ 'a.example.com': 'valid', 'b.example.com': { type: 'urn:ietf:params:acme:error:connection', detail: 'connection refused' } });
    const { promise } = await run(ca, solver, ['a.example.com', 'b.example.com']);
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AcmeProblemError);
    expect((error as AcmeProblemError).message).toBe('validation of b.example.com failed: connection: connection refused');
    // The message names the identifier and the detail: no subproblem line repeats them.
    expect((error as AcmeProblemError).subproblemLines()).toEqual([]);
    expect(solver.live.size).toBe(0);
  });

  it('takes an order the CA created valid already (its authorizations reused): no challenge, no finalize, the certificate downloaded', async () => {
    const ca = scriptedCa({ 'a.example.com': 'valid' }) as unknown as Record<string, unknown>;
    const calls: string[] = [];
    const valid = { url: 'https://ca.test/order/1', status: 'valid', identifiers: [{ type: 'dns', value: 'a.example.com' }], authorizations: ['https://ca.test/authz/a.example.com'], finalize: 'https://ca.test/order/1/finalize', certificate: 'https://ca.test/cert/1' };
    ca.newOrder = async () => valid;
    ca.getOrder = async () => ({ value: valid });
    ca.getAuthorization = async () => ({ value: { url: 'https://ca.test/authz/a.example.com', status: 'valid', identifier: { type: 'dns', value: 'a.example.com' }, challenges: [] } });
    ca.finalize = async () => {
      calls.push('finalize');
      throw new Error('finalize must not be called for a valid order');
    };
    const solver = recordingSolver();
    const { promise } = await run(ca as unknown as CaClient, solver, ['a.example.com']);
    expect((await promise).chainPem).toBe(chains.default);
    expect(calls).toEqual([]);
    expect(solver.presented).toEqual([]);
  });

  it('reports each failing identifier when several fail', async () => {
    const solver = recordingSolver();
    const ca = scriptedCa({
      'a.example.com': { type: 'urn:ietf:params:acme:error:dns', detail: 'NXDOMAIN' },
      'b.example.com': { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'wrong answer' },
    });
    const { promise } = await run(ca, solver, ['a.example.com', 'b.example.com']);
    const error = (await promise.catch((e: unknown) => e)) as AcmeProblemError;
    expect(error.subproblemLines()).toEqual(['a.example.com: dns: NXDOMAIN', 'b.example.com: unauthorized: wrong answer']);
    expect(solver.live.size).toBe(0);
  });

  it('cleans up the challenges already presented when presenting another one fails', async () => {
    const solver = recordingSolver('b.example.com');
    const { promise } = await run(scriptedCa({ 'a.example.com': 'valid', 'b.example.com': 'valid' }), solver, ['a.example.com', 'b.example.com']);
    await expect(promise).rejects.toThrow('cannot present b.example.com');
    expect(solver.presented).toHaveLength(2);
    expect(solver.live.size).toBe(0);
  });

  it("waits for the Retry-After of the finalize answer before polling the order (RFC 8555 §7.4)", async () => {
    const ca = scriptedCa({ 'a.example.com': 'valid' }, {}, 400);
    const { promise } = await run(ca, recordingSolver(), ['a.example.com']);
    await promise;
    const calls = (ca as unknown as { calls: { method: string; at: number }[] }).calls;
    const finalizeAt = calls.findIndex((c) => c.method === 'finalize');
    expect(calls[finalizeAt + 1]?.method).toBe('getOrder');
    expect(calls[finalizeAt + 1]!.at - calls[finalizeAt]!.at).toBeGreaterThanOrEqual(390);
  });

  it('refuses a token that is not base64url before any solver sees it', async () => {
    const solver = recordingSolver();
    const ca = scriptedCa({ 'a.example.com': 'valid' }, { 'a.example.com': '../../etc/passwd' });
    const { promise } = await run(ca, solver, ['a.example.com']);
    await expect(promise).rejects.toThrow(/malformed http-01 token/);
    expect(solver.presented).toHaveLength(0);
  });
});
