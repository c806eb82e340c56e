import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { obtainCertificate } from '../../src/acme/obtain-certificate.js';
import { ignoreProgress } from '../../src/domain/events.js';
import type { Identifier } from '../../src/domain/identifiers.js';
import { createCsrDer } from '../../src/pki/csr.js';
import { generatePrivateKey, keyAuthorization } from '../../src/pki/keys.js';
import { pemCertificateBlocks } from '../../src/pki/pem.js';
import { ScriptedCa } from './scripted-ca.js';
import { leafForCsr } from './test-pki.js';

// The stand-in the core's tests rely on: it must issue what a CA issues, and refuse what a CA refuses.

const spki = (key: KeyObject | string): Buffer => (typeof key === 'string' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });

async function account(ca: ScriptedCa): Promise<{ client: Awaited<ReturnType<ScriptedCa['connect']>>; keyPem: string }> {
  const keyPem = await generatePrivateKey('ec256');
  const client = await ca.connect(ca.directoryUrl, keyPem, {});
  await client.registerAccount({ agreeTos: true, withEab: false });
  return { client, keyPem };
}

describe('the scripted CA', () => {
  it('issues, through a whole order, a certificate for the key of the CSR, signed by its root, naming what was ordered', async () => {
    const ca = new ScriptedCa();
    const { client, keyPem: accountKeyPem } = await account(ca);
    const identifiers: Identifier[] = [
      { type: 'dns', value: 'a.example' },
      { type: 'ip', value: '127.0.0.1' },
    ];
    for (const keyType of ['ec256', 'ec384'] as const) {
      const certificateKeyPem = await generatePrivateKey(keyType);
      const { chainPem } = await obtainCertificate(client, { identifiers, certificateKeyPem, accountKeyPem, solver: ca.solver, deadline: Date.now() + 10_000, progress: ignoreProgress, preferredChain: null });
      const [leaf, top] = pemCertificateBlocks(chainPem).map((pem) => new X509Certificate(pem));
      expect(spki(leaf!.publicKey)).toEqual(spki(certificateKeyPem));
      expect(leaf!.verify(createPublicKey(ca.authority.pem))).toBe(true);
      expect(top!.toString()).toBe(new X509Certificate(ca.authority.pem).toString());
      expect(leaf!.subjectAltName).toBe('DNS:a.example, IP Address:127.0.0.1');
    }
    expect(ca.calls('finalize')).toBe(2);
    expect(ca.solver.presented).toBe(0); // every answer cleaned up
  });

  it('refuses a CSR whose signature does not verify with its key', async () => {
    const ca = new ScriptedCa();
    const csr = Buffer.from(await createCsrDer([{ type: 'dns', value: 'a.example' }], await generatePrivateKey('ec256')));
    expect(() => leafForCsr(csr, { dns: ['a.example'], issuer: ca.authority })).not.toThrow();
    const tampered = Buffer.from(csr.toString('binary').replace('a.example', 'b.example'), 'binary');
    expect(() => leafForCsr(tampered, { dns: ['b.example'], issuer: ca.authority })).toThrow('the CSR signature does not verify with its public key');
  });

  it('validates a challenge only when its solver presents the key authorization of the account that ordered', async () => {
    const ca = new ScriptedCa();
    const { client, keyPem } = await account(ca);
    const order = await client.newOrder([{ type: 'dns', value: 'a.example' }]);
    const { value: authorization } = await client.getAuthorization(order.authorizations[0]!);
    const challenge = authorization.challenges[0]!;
    await ca.solver.present({ identifier: 'a.example', token: challenge.token!, keyAuthorization: keyAuthorization(challenge.token!, await generatePrivateKey('ec256')) });
    await client.respondToChallenge(challenge.url);
    expect((await client.getAuthorization(authorization.url)).value.status).toBe('invalid');
    expect((await client.getOrder(order.url)).value.status).toBe('invalid');

    const again = await client.newOrder([{ type: 'dns', value: 'a.example' }]);
    const { value: next } = await client.getAuthorization(again.authorizations[0]!);
    await ca.solver.present({ identifier: 'a.example', token: next.challenges[0]!.token!, keyAuthorization: keyAuthorization(next.challenges[0]!.token!, keyPem) });
    await client.respondToChallenge(next.challenges[0]!.url);
    expect((await client.getOrder(again.url)).value.status).toBe('ready');
  });

  it('holds a request until the test lets it go, and counts it meanwhile', async () => {
    const ca = new ScriptedCa();
    const { client } = await account(ca);
    const held = ca.hold('newOrder');
    let answered = false;
    const ordering = client.newOrder([{ type: 'dns', value: 'a.example' }]).then((order) => ((answered = true), order));
    await held.reached;
    expect(ca.calls('newOrder')).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    held.release();
    expect((await ordering).status).toBe('pending');

    ca.hold('newOrder', 'b.example').fail(new Error('refused'));
    await expect(client.newOrder([{ type: 'dns', value: 'a.example' }])).resolves.toMatchObject({ status: 'pending' });
    await expect(client.newOrder([{ type: 'dns', value: 'b.example' }])).rejects.toThrow('refused');
  });
});
