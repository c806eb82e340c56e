import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { findPortListeners, listeningInodes } from './port-holder.js';

const TABLE = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1 0000000000000000 100 0 0 10 0',
  '   1: 0100007F:0050 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 4712 1 0000000000000000 20 4 30 10 -1',
  '   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4713 1 0000000000000000 100 0 0 10 0',
].join('\n');

describe('findPortListeners', () => {
  it('reads the listening sockets of a port from a /proc/net/tcp table (not connected ones, not other ports)', () => {
    expect(listeningInodes(TABLE, 80)).toEqual(['4711']);
    expect(listeningInodes(TABLE, 8080)).toEqual(['4713']);
    expect(listeningInodes(TABLE, 443)).toEqual([]);
  });

  it('names the processes holding those sockets', async () => {
    const proc = tempDir('proc');
    mkdirSync(join(proc, 'net'));
    writeFileSync(join(proc, 'net', 'tcp'), TABLE);
    for (const [pid, comm, inode] of [['812', 'nginx', '4711'], ['813', 'nginx', '4711'], ['900', 'sshd', '99']] as const) {
      mkdirSync(join(proc, pid, 'fd'), { recursive: true });
      writeFileSync(join(proc, pid, 'comm'), `${comm}\n`);
      symlinkSync(`socket:[${inode}]`, join(proc, pid, 'fd', '3'));
    }
    expect(await findPortListeners(80, proc)).toEqual({ listening: true, holders: [{ pid: 812, command: 'nginx' }, { pid: 813, command: 'nginx' }] });
    expect(await findPortListeners(443, proc)).toEqual({ listening: false, holders: [] });
    expect(await findPortListeners(80, join(proc, 'missing'))).toBeNull();
  });

  it('finds this process listening on a port of the real /proc', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const found = await findPortListeners((server.address() as AddressInfo).port);
      expect(found?.holders.map((h) => h.pid)).toContain(process.pid);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
