import { describe, expect, it } from 'vitest';
import type { PortAvailability } from '../../challenge/port-check.js';
import { OperationError } from '../../domain/errors.js';
import { checkHttpPort } from './http-port.js';

const taken = (holders: { pid: number; command: string }[] | null): (() => Promise<PortAvailability>) => async () => ({
  free: false,
  code: 'EADDRINUSE',
  error: new OperationError('port 80 is already in use by another process'),
  listeners: holders === null ? null : { listening: true, holders },
});
const nginx = [{ pid: 812, command: 'nginx' }, { pid: 813, command: 'nginx' }];
const machine = { port: 80, addresses: [], certificate: null };

describe('checkHttpPort', () => {
  it('is ok when the port is free', async () => {
    expect(await checkHttpPort({ ...machine, standaloneExpected: true }, async () => ({ free: true }))).toMatchObject({ verdict: 'ok', detail: 'port 80 is free: the standalone server can listen' });
  });

  it("fails a standalone certificate whose port is held, naming the holder", async () => {
    const check = await checkHttpPort({ port: 80, addresses: ['192.0.2.1'], certificate: { name: 'a.example', preHook: null }, standaloneExpected: true }, taken(nginx));
    expect(check).toMatchObject({ verdict: 'fail', certificate: 'a.example', detail: "port 80 on 192.0.2.1 is held by nginx (pid 812, 813), where this certificate's standalone server must listen" });
    expect(check.fix).toMatch(/^stop it with --pre-hook/);
  });

  it('only warns when the certificate has a pre-hook that may free it', async () => {
    const check = await checkHttpPort({ port: 80, addresses: [], certificate: { name: 'a.example', preHook: 'systemctl stop nginx' }, standaloneExpected: true }, taken(nginx));
    expect(check).toMatchObject({ verdict: 'warn', detail: 'port 80 is held by nginx (pid 812, 813); the pre-hook "systemctl stop nginx" must free it before each renewal' });
  });

  it("for this machine's port: a warning when --standalone is expected, fine for webroot certificates; says how to find an unseen holder", async () => {
    const expected = await checkHttpPort({ ...machine, standaloneExpected: true }, taken(null));
    expect(expected).toMatchObject({ verdict: 'warn', detail: 'port 80 is held by another process: --standalone (the default of issue) cannot listen there' });
    expect(expected.fix).toContain("ss -ltnp 'sport = :80'");
    expect(await checkHttpPort({ ...machine, standaloneExpected: false }, taken(nginx))).toMatchObject({ verdict: 'ok', detail: 'port 80 is held by nginx (pid 812, 813): fine for --webroot, when that server serves the webroot' });
  });

  it('fails a certificate when binding is not allowed, with the hint of issue', async () => {
    const refused = async (): Promise<PortAvailability> => ({ free: false, code: 'EACCES', error: new OperationError('not allowed to listen on port 80', { hint: 'ports below 1024 need root' }), listeners: null });
    expect(await checkHttpPort({ port: 80, addresses: [], certificate: { name: 'a.example', preHook: null }, standaloneExpected: true }, refused)).toMatchObject({ verdict: 'fail', detail: 'not allowed to listen on port 80', fix: 'ports below 1024 need root' });
    expect(await checkHttpPort({ ...machine, standaloneExpected: true }, refused)).toMatchObject({ verdict: 'warn' });
  });
});
