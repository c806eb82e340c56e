import { afterEach, describe, expect, it } from 'vitest';
import { startMisbehavingCa } from '../../test/support/misbehaving-ca-standin.js';
import type { MisbehavingCa } from '../../test/support/misbehaving-ca-standin.js';
import { generatePrivateKey } from '../pki/keys.js';
import { BAD_NONCE_TRIES, CaClient } from './client.js';
import { AcmeProblemError } from './problem.js';

// The nonces of a CaClient against a stand-in CA that keeps RFC 8555's nonce rule (a nonce it did not give out,
// or gave out and saw used, gets badNonce) and can be told to refuse good nonces too.
let ca: MisbehavingCa | undefined;
afterEach(async () => {
  await ca?.stop();
  ca = undefined;
});

const refusal = { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'not this one', status: 400 };

async function connect(standin: MisbehavingCa): Promise<CaClient> {
  return CaClient.connect({ directoryUrl: standin.directoryUrl, accountKeyPem: await generatePrivateKey('ec256'), requestTimeoutMs: 5000 });
}

const newNonceRequests = (standin: MisbehavingCa) => standin.requests.filter((request) => request === 'GET /nonce').length;

describe('CaClient nonces', () => {
  it('spends the nonce of each answer on the next request: one newNonce request for a whole conversation', async () => {
    ca = await startMisbehavingCa({ newOrderProblem: refusal });
    const client = await connect(ca);
    await client.registerAccount({ agreeTos: true, withEab: false });
    for (let i = 0; i < 3; i++) await expect(client.newOrder([{ type: 'dns', value: 'example.com' }])).rejects.toBeInstanceOf(AcmeProblemError);
    expect(newNonceRequests(ca)).toBe(1);
    const nonces = ca.signedNonces.map((s) => s.nonce);
    expect(nonces).toHaveLength(4);
    expect(new Set(nonces).size).toBe(4);
  });

  it('signs again at once with the nonce of a badNonce answer', async () => {
    ca = await startMisbehavingCa({ newOrderProblem: refusal, rejectNoncesFirst: 5 });
    const client = await connect(ca);
    expect(await client.registerAccount({ agreeTos: true, withEab: false })).toMatchObject({ status: 'valid' });
    expect(ca.signedNonces.map((s) => s.path)).toEqual(new Array(6).fill('/new-account'));
    // The first nonce from newNonce, every later one from the badNonce answer before it.
    expect(newNonceRequests(ca)).toBe(1);
    expect(new Set(ca.signedNonces.map((s) => s.nonce)).size).toBe(6);
  });

  it(`gives up after ${BAD_NONCE_TRIES} badNonce answers to one request, with the CA's problem`, async () => {
    ca = await startMisbehavingCa({ newOrderProblem: refusal, rejectNoncesFirst: 1000 });
    const client = await connect(ca);
    const error = await client.registerAccount({ agreeTos: true, withEab: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AcmeProblemError);
    expect((error as Error).message).toMatch(/badNonce/);
    expect(ca.signedNonces).toHaveLength(BAD_NONCE_TRIES);
  });
});
