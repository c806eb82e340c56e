import { describe, expect, it } from 'vitest';
import type { AddressProbe, WebrootProbeReport } from '../../challenge/webroot-probe.js';
import { judgeWebrootProbe } from './webroot-served.js';

const v4 = { address: '192.0.2.1', family: 4 as const };
const v6 = { address: '2001:db8::1', family: 6 as const };
const served = (name: string, at: AddressProbe['at'] = v4): AddressProbe => ({ name, at, served: true, fetch: { kind: 'answered', status: 200, body: 'x', url: '', redirects: 0 } });
const noAnswer = (name: string, at: AddressProbe['at'], code: string): AddressProbe => ({ name, at, served: false, fetch: { kind: 'no-answer', code, url: '', redirects: 0 } });
const report = (probes: AddressProbe[], extra: Partial<WebrootProbeReport> = {}): WebrootProbeReport => ({ port: 80, path: '/.well-known/acme-challenge/t', writeError: null, probes, unresolved: [], overridden: [], ...extra });
const judge = (r: WebrootProbeReport) => judgeWebrootProbe(r, '/var/www', 'a.example');

describe('judgeWebrootProbe', () => {
  it('is ok when every address served the token', () => {
    expect(judge(report([served('a.example'), served('a.example', v6)]))).toEqual({
      name: 'webroot',
      certificate: 'a.example',
      verdict: 'ok',
      detail: 'served through a.example at 192.0.2.1 (IPv4), a.example at 2001:db8::1 (IPv6)',
      fix: null,
    });
  });

  it('fails when the token cannot be written', () => {
    expect(judge(report([], { writeError: { message: 'EACCES', hint: undefined } }))).toMatchObject({ verdict: 'fail', detail: 'could not write a probe token under /var/www/.well-known/acme-challenge/: EACCES', fix: 'make /var/www writable by the user acmectl runs as' });
  });

  it('fails a refused IPv4 connection, and only warns for a refused IPv6 one when IPv4 served (the CA falls back)', () => {
    expect(judge(report([noAnswer('a.example', v4, 'ECONNREFUSED')])).verdict).toBe('fail');
    const fallback = judge(report([served('a.example'), noAnswer('a.example', v6, 'ECONNREFUSED')]));
    expect(fallback).toMatchObject({ verdict: 'warn', detail: 'a.example at 2001:db8::1 (IPv6): connection refused on port 80; served through a.example at 192.0.2.1 (IPv4)' });
  });

  it('warns for addresses this machine cannot reach and names that do not resolve here', () => {
    const check = judge(report([noAnswer('a.example', v4, 'ETIMEDOUT')], { unresolved: [{ name: 'www.a.example', why: 'it has no A or AAAA record' }] }));
    expect(check.verdict).toBe('warn');
    expect(check.detail).toBe('www.a.example was not probed: it has no A or AAAA record on this machine; a.example at 192.0.2.1 (IPv4): could not connect from this machine (ETIMEDOUT)');
    expect(check.fix).toContain('ACMECTL_RESOLVE=www.a.example:ADDRESS');
  });
});
