import { freePort } from '../../scripts/lib/pebble.js';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startMisbehavingCa } from '../support/misbehaving-ca-standin.js';
import type { MisbehavingCa } from '../support/misbehaving-ca-standin.js';
import { tempDir } from '../support/temp-dir.js';

let ca: MisbehavingCa | undefined;
afterEach(async () => {
  await ca?.stop();
  ca = undefined;
});

const home = () => tempDir('caerr');
// A free port for the standalone server: it is bound (and let go) before the order, and port 80 may be taken here.
const issue = async (directoryUrl: string, extra: string[] = []) =>
  runCli(['issue', 'a.example.com', 'b.example.com', 'c.example.com', '--server', directoryUrl, '--http-port', String(await freePort()), '--agree-tos', '--email', 'ops@example.com', ...extra], { home: home() });

const rejected = {
  type: 'urn:ietf:params:acme:error:rejectedIdentifier',
  detail: 'Error creating new order :: Cannot issue for 2 identifiers',
  status: 400,
  subproblems: [
    { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'Domain name is on a block list', identifier: { type: 'dns', value: 'a.example.com' } },
    { type: 'urn:ietf:params:acme:error:caa', detail: 'CAA record forbids issuance', identifier: { type: 'dns', value: 'c.example.com' } },
  ],
};

describe('problem documents reach the screen intact (stand-in CA)', () => {
  it('shows type, detail and every identifier\'s subproblem (exit 1)', async () => {
    ca = await startMisbehavingCa({ newOrderProblem: rejected });
    const result = await issue(ca.directoryUrl);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: the CA refused creating the order: rejectedIdentifier: Error creating new order :: Cannot issue for 2 identifiers');
    expect(result.stderr).toContain('  - a.example.com: rejectedIdentifier: Domain name is on a block list');
    expect(result.stderr).toContain('  - c.example.com: caa: CAA record forbids issuance');
    expect(result.stderr).toMatch(/hint: the CA will not issue for one of these names/);
  });

  it('keeps the whole problem document in --json', async () => {
    ca = await startMisbehavingCa({ newOrderProblem: rejected });
    const result = await issue(ca.directoryUrl, ['--json']);
    expect(result.code).toBe(1);
    const document = JSON.parse(result.stdout) as { ok: boolean; error: { exitCode: number; problem: unknown } };
    expect(document.ok).toBe(false);
    expect(document.error.exitCode).toBe(1);
    expect(document.error.problem).toEqual(rejected);
  });

  it('shows a rate limit as such, without sleeping through Retry-After', async () => {
    ca = await startMisbehavingCa({ newOrderProblem: { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many certificates already issued', status: 429 }, status: 429 });
    const result = await issue(ca.directoryUrl);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('rateLimited: too many certificates already issued');
    expect(ca.requests.filter((r) => r.startsWith('POST /new-order'))).toHaveLength(1);
  });
});

// Seen against Pebble 2.10: a newOrder answered 500 was re-sent as it was (same JWS, spent nonce) by acme-client's
// retry, so every round ended in badNonce and the CA's real error was never shown.
describe('server errors on signed requests (stand-in CA)', () => {
  const newOrderNonces = (standin: MisbehavingCa) => standin.signedNonces.filter((s) => s.path === '/new-order').map((s) => s.nonce);

  it('signs the request again with a fresh nonce after a 500, and goes on', async () => {
    ca = await startMisbehavingCa({ newOrderProblem: rejected, serverErrorsFirst: 2 });
    const result = await issue(ca.directoryUrl);
    // Past both server errors: the CA's third answer (the refusal) is the one shown.
    expect(result.stderr).toContain('error: the CA refused creating the order: rejectedIdentifier');
    const nonces = newOrderNonces(ca);
    expect(nonces).toHaveLength(3);
    expect(new Set(nonces).size).toBe(3);
    expect(result.stderr).not.toMatch(/badNonce/);
  });

  it('shows the server error itself when it persists, not badNonce', async () => {
    ca = await startMisbehavingCa({ newOrderProblem: rejected, serverErrorsFirst: 1000 });
    const result = await issue(ca.directoryUrl);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error: the CA refused creating the order: serverInternal: the stand-in's server error number 4");
    expect(result.stderr).not.toMatch(/badNonce/);
    // The first try and three more, each with a nonce of its own.
    expect(new Set(newOrderNonces(ca)).size).toBe(4);
    expect(newOrderNonces(ca)).toHaveLength(4);
  });
});

describe('request timeouts (stand-in CA)', () => {
  it('gives up on a CA that never answers after --request-timeout (exit 1)', async () => {
    ca = await startMisbehavingCa({ hangOn: 'newOrder' });
    const result = await issue(ca.directoryUrl, ['--request-timeout', '1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/could not reach the CA at http:\/\/127\.0\.0\.1:\d+\/new-order: no answer within 1 s/);
  });

  it('names --profile shortlived when a CA with profiles refuses an IP address ordered without one', async () => {
    const rejected = { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'Cannot issue for "192.0.2.7": IP addresses are not allowed in this profile', status: 400 };
    ca = await startMisbehavingCa({ newOrderProblem: rejected }, { profiles: { classic: '90 days', shortlived: '160 hours' } });
    const home = tempDir('caerr');
    const result = await runCli(['issue', '192.0.2.7', '--server', ca.directoryUrl, '--http-port', String(await freePort()), '--email', 'ops@example.com', '--agree-tos'], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('rejectedIdentifier: Cannot issue for "192.0.2.7"');
    expect(result.stderr).toContain("hint: this CA issues certificates for IP addresses only in a short-lived profile (Let's Encrypt: shortlived): add --profile shortlived");
  });
});
