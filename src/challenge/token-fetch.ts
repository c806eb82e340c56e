import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { NameAddress, NameResolver } from './name-addresses.js';

/** What fetching a token URL at one address gave, after following redirects as a CA does. */
export type TokenFetch =
  /** An HTTP answer (the last one, after redirects): status and the start of its body. */
  | { kind: 'answered'; status: number; body: string; url: string; redirects: number }
  /** No answer: the connection failed (refused, unreachable, timed out) or a redirect led nowhere. */
  | { kind: 'no-answer'; code: string; url: string; redirects: number };

export interface TokenFetchRequest {
  /** The name the CA validates: the Host header, and the host of the URL shown. */
  name: string;
  /** Where to connect, whatever the name resolves to elsewhere. */
  at: NameAddress;
  port: number;
  path: string;
  timeoutMs: number;
  /** Resolves the host of a redirect to another name. */
  resolve: NameResolver;
  signal?: AbortSignal;
}

// Like Let's Encrypt's validation: at most 10 redirects, to http or https on ports 80 and 443 only (a non-default
// port in the first URL is the test CA's --http-port and is kept), certificates not checked.
const MAX_REDIRECTS = 10;
const MAX_BODY_BYTES = 8 * 1024;

/** GET http://NAME:PORT/PATH at one address, with the Host header of the name, following redirects. */
export async function fetchToken(request: TokenFetchRequest): Promise<TokenFetch> {
  let url = new URL(`http://${hostInUrl(request.name)}${request.port === 80 ? '' : `:${request.port}`}${request.path}`);
  let at = request.at;
  for (let redirects = 0; ; redirects++) {
    const answer = await getOnce(url, at, request.timeoutMs, request.signal);
    if ('code' in answer) return { kind: 'no-answer', code: answer.code, url: url.href, redirects };
    const location = answer.location;
    if (answer.status < 300 || answer.status >= 400 || location === undefined) {
      return { kind: 'answered', status: answer.status, body: answer.body, url: url.href, redirects };
    }
    if (redirects === MAX_REDIRECTS) return { kind: 'no-answer', code: 'too many redirects', url: url.href, redirects };
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      return { kind: 'no-answer', code: `a redirect to an invalid URL (${location.slice(0, 200)})`, url: url.href, redirects };
    }
    if ((next.protocol !== 'http:' && next.protocol !== 'https:') || (next.port !== '' && next.port !== '80' && next.port !== '443' && next.port !== url.port)) {
      return { kind: 'no-answer', code: `a redirect to ${next.href}, which a CA does not follow (http or https on port 80 or 443 only)`, url: url.href, redirects };
    }
    if (next.hostname.toLowerCase() !== url.hostname.toLowerCase()) {
      const resolved = await request.resolve(next.hostname.replace(/^\[(.*)\]$/, '$1'));
      const same = resolved.addresses.find((a) => a.family === at.family) ?? resolved.addresses[0];
      if (!same) return { kind: 'no-answer', code: `a redirect to ${next.href}, whose host does not resolve here`, url: url.href, redirects };
      at = same;
    }
    url = next;
  }
}

type Once = { status: number; body: string; location: string | undefined } | { code: string };

function getOnce(url: URL, at: NameAddress, timeoutMs: number, signal: AbortSignal | undefined): Promise<Once> {
  return new Promise((resolve) => {
    const https = url.protocol === 'https:';
    const options = {
      host: at.address,
      family: at.family,
      port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { host: url.host, 'user-agent': 'acmectl webroot probe', connection: 'close' },
      timeout: timeoutMs,
      ...(signal ? { signal } : {}),
      ...(https ? { rejectUnauthorized: false, ...(isIP(url.hostname) === 0 ? { servername: url.hostname } : {}) } : {}),
    };
    const outgoing = (https ? httpsRequest : httpRequest)(options, (incoming) => {
      const chunks: Buffer[] = [];
      let size = 0;
      incoming.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) incoming.destroy();
      });
      const done = (): void => {
        const location = incoming.headers.location;
        resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8'), location });
      };
      incoming.on('end', done);
      incoming.on('close', done); // destroyed at the size limit: what was read is enough
      incoming.on('error', () => undefined);
    });
    outgoing.on('timeout', () => outgoing.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    outgoing.on('error', (error: NodeJS.ErrnoException) => resolve({ code: error.code ?? error.message }));
    outgoing.end();
  });
}

function hostInUrl(name: string): string {
  return isIP(name) === 6 ? `[${name}]` : name;
}
