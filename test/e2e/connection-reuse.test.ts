import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * A plain TCP forwarder in front of Pebble's ACME port that counts the connections opened through it (TLS passes
 * through untouched; Pebble builds its URLs from the Host it is sent, so the client stays on the forwarder).
 */
async function countingForwarder(target: URL): Promise<{ port: number; connections: () => number; stop: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((incoming) => {
    connections += 1;
    const outgoing = createConnection({ host: '127.0.0.1', port: Number(target.port) });
    for (const socket of [incoming, outgoing]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        incoming.destroy();
        outgoing.destroy();
      });
    }
    incoming.pipe(outgoing).pipe(incoming);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let pebble: PebbleHandle;
let forwarder: Awaited<ReturnType<typeof countingForwarder>>;
beforeAll(async () => {
  pebble = await startPebble();
  forwarder = await countingForwarder(new URL(pebble.directoryUrl));
});
afterAll(async () => {
  await forwarder?.stop();
  await pebble?.stop();
});

// One run talks to its CA over kept-alive connections with one account: renewing many certificates must not
// cost a TLS handshake (or an account lookup) per request.
describe('one renew run, many certificates', () => {
  it('reuses its connections to the CA: a handful for three forced renewals, not one per request', async () => {
    const home = tempDir('reuse');
    const url = new URL(pebble.directoryUrl);
    const server = `https://localhost:${forwarder.port}${url.pathname}`;
    const names = ['one.example.test', 'two.example.test', 'three.example.test'];
    const common = ['--server', server, '--ca-bundle', pebble.caBundlePath];
    const issued = await runCli(['issue', ...names, ...common, '--name', 'all', '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'], { home });
    expect(issued.code, issued.stderr).toBe(0);
    for (const name of names) {
      const one = await runCli(['issue', name, ...common, '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'], { home });
      expect(one.code, one.stderr).toBe(0);
    }

    const before = forwarder.connections();
    const renewed = await runCli(['renew', '--force', '--concurrency', '1', '--no-random-sleep', '--json', ...common], { home });
    expect(renewed.code, renewed.stderr).toBe(0);
    expect((JSON.parse(renewed.stdout) as { renewed: unknown[] }).renewed).toHaveLength(4);
    // Four orders of about ten requests each went through: a connection per request would be 40 or more.
    expect(forwarder.connections() - before).toBeLessThanOrEqual(3);
  });
});
