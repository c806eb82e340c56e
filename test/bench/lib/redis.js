// A throwaway redis-server on a free loopback port for the scale part (the bench is plain Node, so it cannot
// import test/support/redis-server.ts; this is the part of it the bench needs, on the same harness pieces).
import net from 'node:net';
import { ensureCommandsInstalled, findExecutable, freePort, ManagedProcess, waitUntilServing } from '../../../scripts/lib/pebble.js';
import { benchTempDir, onCleanup } from './cleanup.js';

const REDIS_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin'];

/** Starts redis-server (installing Debian's package when missing and root); resolves once it answers PING. */
export async function startRedis() {
  await ensureCommandsInstalled({
    commands: ['redis-server'],
    aptPackage: 'redis-server',
    extraDirs: REDIS_DIRS,
    manualInstructions: 'The scale part needs redis-server: on Debian/Ubuntu `sudo apt-get install redis-server`.',
  });
  const binary = /** @type {string} */ (await findExecutable('redis-server', REDIS_DIRS));
  const dir = benchTempDir('redis');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // Redis's default persistence for a server of its own (RDB snapshots off: nothing to restart from).
    const server = new ManagedProcess('redis-server', binary, ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', '', '--loglevel', 'warning'], { cwd: dir });
    const stop = onCleanup(() => server.stop(5_000));
    try {
      await waitUntilServing({ probe: () => answersPing(port), process: server, what: `redis-server on port ${port}` });
      return { url: (db) => `redis://127.0.0.1:${port}/${db}`, stop };
    } catch (error) {
      await stop();
      if (attempt === 3) throw error;
    }
  }
}

/** @param {number} port */
function answersPing(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}
