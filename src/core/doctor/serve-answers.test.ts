import { describe, expect, it } from 'vitest';
import { challengeKey } from '../../challenge/store-published.js';
import type { AddressProbe, WebrootProbeReport } from '../../challenge/webroot-probe.js';
import { MemoryStore } from '../../store/memory.js';
import { checkServeAnswers, judgeServeProbe } from './serve-answers.js';

const v4 = { address: '192.0.2.1', family: 4 as const };
const v6 = { address: '2001:db8::1', family: 6 as const };
const served = (at: AddressProbe['at'] = v4): AddressProbe => ({ name: 'a.example', at, served: true, fetch: { kind: 'answered', status: 200, body: 'x', url: '', redirects: 0 } });
const answered = (status: number, at: AddressProbe['at'] = v4): AddressProbe => ({ name: 'a.example', at, served: false, fetch: { kind: 'answered', status, body: '', url: '', redirects: 0 } });
const refused = (at: AddressProbe['at']): AddressProbe => ({ name: 'a.example', at, served: false, fetch: { kind: 'no-answer', code: 'ECONNREFUSED', url: '', redirects: 0 } });
const report = (probes: AddressProbe[], extra: Partial<WebrootProbeReport> = {}): WebrootProbeReport => ({ port: 80, path: '/.well-known/acme-challenge/t', writeError: null, probes, unresolved: [], overridden: [], ...extra });

describe('judgeServeProbe', () => {
  it('is ok when acmectl serve answered the token at every address', () => {
    expect(judgeServeProbe(report([served(), served(v6)]), 'a.example')).toEqual({
      name: 'serve',
      certificate: 'a.example',
      verdict: 'ok',
      detail: 'served through a.example at 192.0.2.1 (IPv4), a.example at 2001:db8::1 (IPv6)',
      fix: null,
    });
  });

  it('fails when nothing listens, or something else answers, with the fix: acmectl serve on every host', () => {
    expect(judgeServeProbe(report([refused(v4)]), 'a.example')).toMatchObject({
      verdict: 'fail',
      detail: 'a.example at 192.0.2.1 (IPv4): connection refused on port 80',
      fix: 'nothing listens on port 80 at 192.0.2.1: run acmectl serve with this store on every host a.example points to',
    });
    expect(judgeServeProbe(report([answered(404)]), 'a.example')).toMatchObject({ verdict: 'fail', fix: expect.stringMatching(/^run acmectl serve with this store \(the same --store\) on every host a\.example points to/) });
  });

  it('says that serve cannot read the store when it answers 503', () => {
    expect(judgeServeProbe(report([answered(503)]), 'a.example').fix).toBe('acmectl serve at 192.0.2.1 cannot read the store: check its --store URL and credentials');
  });

  it('fails an AAAA record pointing where serve does not answer, and only warns when IPv6 refuses while IPv4 answers', () => {
    expect(judgeServeProbe(report([served(), answered(404, v6)]), 'a.example')).toMatchObject({ verdict: 'fail', fix: expect.stringMatching(/^the AAAA record of a\.example points at 2001:db8::1, where acmectl serve does not answer/) });
    expect(judgeServeProbe(report([served(), refused(v6)]), 'a.example').verdict).toBe('warn');
  });

  it('fails when the token cannot be published', () => {
    expect(judgeServeProbe(report([], { writeError: { message: 'READONLY', hint: undefined } }), 'a.example')).toMatchObject({ verdict: 'fail', detail: 'could not publish a probe token to the store: READONLY' });
  });
});

describe('checkServeAnswers', () => {
  it('publishes the probe token to the store while the names are fetched, and deletes it afterwards', async () => {
    const store = new MemoryStore();
    let published: string | null = null;
    const check = await checkServeAnswers('a.example', store, ['a.example'], 8080, async (solver, names, port) => {
      const challenge = { identifier: 'probe', token: 'acmectl-probe-t1', keyAuthorization: 'answer' };
      await solver.present(challenge);
      const entry = await store.get(challengeKey(challenge.token));
      published = entry ? Buffer.from(entry.value).toString() : null;
      await solver.cleanUp(challenge);
      expect([names, port]).toEqual([['a.example'], 8080]);
      return report([served()], { port });
    });
    expect(published).toBe('answer');
    expect(check.verdict).toBe('ok');
    const left: string[] = [];
    for await (const key of store.list('challenges/')) left.push(key);
    expect(left).toEqual([]);
  });
});
