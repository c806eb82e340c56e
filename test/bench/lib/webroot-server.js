// The one way every client of the single-certificate and bulk parts answers HTTP-01: files in a webroot,
// served by this small HTTP server on Pebble's HTTP-01 port, as a web server already running on port 80 would.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';

const TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * Serves <webroot>/.well-known/acme-challenge/<token> on host:port; `stop()` closes it (for runs that bind the
 * port themselves) and `start()` opens it again.
 * @param {string} webroot
 * @param {number} port
 * @param {string} [host]
 */
export function webrootServer(webroot, port, host = '127.0.0.1') {
  const challengeDir = join(webroot, '.well-known', 'acme-challenge');
  /** @type {import('node:http').Server | null} */
  let server = null;
  const handle = async (request, response) => {
    const match = /^\/\.well-known\/acme-challenge\/([^/?]+)$/.exec(request.url ?? '');
    const token = match?.[1];
    if (!token || !TOKEN.test(token)) return response.writeHead(404).end();
    try {
      const body = await readFile(join(challengeDir, token));
      response.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  };
  return {
    async start() {
      if (server) return;
      const opened = createServer((request, response) => void handle(request, response));
      await new Promise((resolve, reject) => {
        opened.once('error', reject);
        opened.listen(port, host, () => resolve(undefined));
      });
      server = opened;
    },
    async stop() {
      const closing = server;
      server = null;
      if (!closing) return;
      closing.closeAllConnections();
      await new Promise((resolve) => closing.close(() => resolve(undefined)));
    },
  };
}
