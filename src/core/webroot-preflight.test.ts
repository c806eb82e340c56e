import { describe, expect, it } from 'vitest';
import { renewalSettings } from '../../test/support/renewal-settings.js';
import type { WebrootProbeReport } from '../challenge/webroot-probe.js';
import type { Http01Solver } from '../domain/http01.js';
import type { ProgressEvent } from '../domain/events.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { MemoryStore } from '../store/memory.js';
import { issueCertificate } from './issue.js';
import type { IssueRequest } from './issue-request.js';
import type { WebrootProber } from './doctor/webroot-served.js';
import { WebrootPreflightError } from './webroot-preflight.js';

const notServed: WebrootProbeReport = {
  port: 80,
  path: '/.well-known/acme-challenge/t',
  writeError: null,
  probes: [{ name: 'www.example', at: { address: '192.0.2.1', family: 4 }, served: false, fetch: { kind: 'answered', status: 404, body: '', url: '', redirects: 0 } }],
  unresolved: [],
  overridden: [],
};
const unresolved: WebrootProbeReport = { ...notServed, probes: [], unresolved: [{ name: 'www.example', why: 'it has no A or AAAA record' }] };

function request(): IssueRequest {
  return {
    name: 'www.example',
    identifiers: [{ type: 'dns', value: 'www.example' }],
    settings: renewalSettings({ server: 'https://ca.example/dir', challenge: 'webroot', webroot: '/var/www' }),
    force: false,
    account: { email: null, agreeTos: true, eab: null },
  };
}

/** Issues with a probe answering `report`; says whether the CA was contacted, and the progress events. */
async function issueWithProbe(report: WebrootProbeReport): Promise<{ error: unknown; caContacted: boolean; events: ProgressEvent[]; probedWith: unknown[] }> {
  let caContacted = false;
  const events: ProgressEvent[] = [];
  const probedWith: unknown[] = [];
  const solver: Http01Solver = { description: 'webroot /var/www', present: async () => undefined, cleanUp: async () => undefined, close: async () => undefined };
  const probe: WebrootProber = async (...args) => {
    probedWith.push(args);
    return report;
  };
  const error = await issueCertificate(request(), {
    store: new MemoryStore(),
    connect: async () => {
      caContacted = true;
      throw new Error('the CA was contacted');
    },
    solver,
    progress: (event) => events.push(event),
    orderTimeoutMs: 10_000,
    pkcs12Password: () => '',
    // A directory of the test's own: the order checks (creates and tries) its export directory before anything.
    defaultExportDir: tempDir('preflight-out'),
    probeWebroot: probe,
  }).then(
    () => null,
    (e: unknown) => e,
  );
  return { error, caContacted, events, probedWith };
}

describe('the webroot preflight of an order', () => {
  it('stops before the CA is contacted when the webroot is not served, with the fix and how to skip it', async () => {
    const { error, caContacted, probedWith } = await issueWithProbe(notServed);
    expect(error).toBeInstanceOf(WebrootPreflightError);
    expect((error as WebrootPreflightError).message).toBe('the webroot probe failed: www.example at 192.0.2.1 (IPv4) answered 404 instead of the probe token');
    expect((error as WebrootPreflightError).hint).toMatch(/^make the web server for www\.example serve \/var\/www\/\.well-known\/acme-challenge\/ .*; --no-preflight skips the probe$/);
    expect(caContacted).toBe(false);
    expect(probedWith).toEqual([[expect.anything(), ['www.example'], 80]]);
  });

  it('says a warning and goes on to the CA when a name does not resolve here', async () => {
    const { error, caContacted, events } = await issueWithProbe(unresolved);
    expect(caContacted).toBe(true);
    expect((error as Error).message).toBe('the CA was contacted');
    expect(events).toContainEqual(expect.objectContaining({ step: 'preflight', phase: 'warned', message: expect.stringMatching(/^webroot probe: www\.example was not probed: it has no A or AAAA record on this machine \(give www\.example/) }));
  });
});
