import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import forge from 'node-forge';
import { intermediate, leafWith, root } from './test-pki.js';
import type { Authority } from './test-pki.js';

/**
 * A STAND-IN for an ACME CA, not a CA: it implements just enough of RFC 8555 for `acmectl issue` to get a
 * certificate (directory, nonces, newAccount, the account, newOrder, orders, authorizations, http-01 challenges,
 * finalize, certificate download), and lets a test replace any one answer with a crafted one: what a hostile or
 * broken CA could send. It checks no JWS signature and validates no challenge (an answered challenge is valid),
 * and it issues from its own small PKI (test-pki.ts, node-forge), so the CSR must hold an RSA key: run acmectl
 * with `--key-type rsa2048`. Plain http on loopback only.
 */

/** The requests whose answers a test can replace. */
export type Endpoint = 'directory' | 'newAccount' | 'account' | 'newOrder' | 'order' | 'authorization' | 'challenge' | 'finalize' | 'certificate';

/** An answer: a status, headers, and a JSON body (any value) or, given as `raw`, bytes sent as they are. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: string | Buffer;
}

/**
 * Instead of an answer: `hang` never answers; `trickle` sends the headers, then one byte a second, forever;
 * `endless` sends the headers, then a body that never ends, as fast as the client reads it.
 */
export type Stall = 'hang' | 'trickle' | 'endless';

/** What a replacement answer is made from: the honest answer, and what the honest CA would issue. */
export interface AnswerContext {
  /** This stand-in's base URL, e.g. http://127.0.0.1:PORT. */
  base: string;
  /** The same stand-in on another port: another origin, which the honest directory does not name. */
  otherBase: string;
  /** The honest answer to this request. */
  honest: Answer;
  /** The identifiers of the current order, as ordered. */
  identifiers: { type: string; value: string }[];
  /** At finalize and after: the CSR's public key (PEM). */
  csrPublicKeyPem: string | null;
  pki: StandInPki;
}

export interface StandInPki {
  root: Authority;
  intermediate: Authority;
  /** Another intermediate under the same root, which signed nothing the honest CA sends. */
  otherIntermediate: Authority;
}

export type Script = Partial<Record<Endpoint, (context: AnswerContext) => Answer | Stall>>;

export interface HostileCa {
  directoryUrl: string;
  base: string;
  otherBase: string;
  /** "METHOD /path" of every request, in order (on the other origin: "METHOD http://…/path"). */
  requests: string[];
  /** The replacements in force; change it between runs (an honest first run, then a hostile one). */
  script: Script;
  /** Resolves at the next request to an endpoint. */
  requested(endpoint: Endpoint): Promise<void>;
  stop(): Promise<void>;
}

interface Order {
  identifiers: { type: string; value: string }[];
  answered: boolean[];
  csrPublicKeyPem: string | null;
}

export async function startHostileCa(script: Script = {}): Promise<HostileCa> {
  const pki: StandInPki = (() => {
    const top = root('Stand-in Root');
    return { root: top, intermediate: intermediate('Stand-in Intermediate', top), otherIntermediate: intermediate('Stand-in Other Intermediate', top) };
  })();
  const requests: string[] = [];
  const waiting = new Map<Endpoint, (() => void)[]>();
  const nextRequestTo = (endpoint: Endpoint): Promise<void> =>
    new Promise<void>((resolve) => waiting.set(endpoint, [...(waiting.get(endpoint) ?? []), resolve]));
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const orders: Order[] = [];
  let nonce = 0;
  let base = '';
  let otherBase = '';

  const handle = async (request: IncomingMessage, response: ServerResponse, origin: string): Promise<void> => {
    const path = request.url ?? '/';
    requests.push(`${request.method} ${origin === base ? '' : origin}${path}`);
    const payload = payloadOf(await readBody(request));
    const route = routeOf(path);
    if (!route) return send(response, { status: 404, body: { type: 'urn:ietf:params:acme:error:malformed', detail: 'not found' } });
    if (route.endpoint === 'nonce') return send(response, { status: 200, headers: { 'replay-nonce': `nonce${++nonce}` } });
    const { endpoint } = route;
    for (const resolve of waiting.get(endpoint) ?? []) resolve();
    waiting.delete(endpoint);
    const order = route.order === undefined ? orders[orders.length - 1] : orders[route.order];
    const honest = honestAnswer(endpoint, route, order, payload);
    const replace = stub.script[endpoint];
    const answer = replace
      ? replace({ base, otherBase, honest: honest.answer, identifiers: honest.order?.identifiers ?? order?.identifiers ?? [], csrPublicKeyPem: (honest.order ?? order)?.csrPublicKeyPem ?? null, pki })
      : honest.answer;
    if (answer === 'hang') return;
    if (answer === 'trickle' || answer === 'endless') return stall(response, answer);
    send(response, answer);
  };

  const honestAnswer = (endpoint: Endpoint, route: Route, order: Order | undefined, payload: Record<string, unknown> | null): { answer: Answer; order?: Order } => {
    const orderUrl = (index: number): string => `${base}/order/${index}`;
    const orderBody = (index: number, o: Order): Record<string, unknown> => {
      const ready = o.answered.every(Boolean);
      return {
        status: o.csrPublicKeyPem ? 'valid' : ready ? 'ready' : 'pending',
        identifiers: o.identifiers,
        authorizations: o.identifiers.map((_, i) => `${base}/authz/${index}/${i}`),
        finalize: `${base}/order/${index}/finalize`,
        ...(o.csrPublicKeyPem ? { certificate: `${base}/cert/${index}` } : {}),
      };
    };
    switch (endpoint) {
      case 'directory':
        return {
          answer: {
            status: 200,
            body: { newNonce: `${base}/nonce`, newAccount: `${base}/new-account`, newOrder: `${base}/new-order`, revokeCert: `${base}/revoke`, keyChange: `${base}/key-change`, meta: { termsOfService: `${base}/tos` } },
          },
        };
      case 'newAccount':
        return { answer: { status: 201, headers: { location: `${base}/account/1` }, body: { status: 'valid', contact: payload?.contact ?? [] } } };
      case 'account':
        return { answer: { status: 200, body: { status: 'valid', contact: ['mailto:ops@example.com'] } } };
      case 'newOrder': {
        const identifiers = Array.isArray(payload?.identifiers) ? (payload.identifiers as Order['identifiers']) : [];
        const created: Order = { identifiers, answered: identifiers.map(() => false), csrPublicKeyPem: null };
        orders.push(created);
        const index = orders.length - 1;
        return { answer: { status: 201, headers: { location: orderUrl(index) }, body: orderBody(index, created) }, order: created };
      }
      case 'order':
        return { answer: order ? { status: 200, body: orderBody(route.order!, order) } : notFound() };
      case 'authorization':
      case 'challenge': {
        const i = route.authorization!;
        if (!order || i >= order.identifiers.length) return { answer: notFound() };
        if (endpoint === 'challenge') order.answered[i] = true;
        const status = order.answered[i] ? 'valid' : 'pending';
        const challenge = { type: 'http-01', url: `${base}/chall/${route.order}/${i}`, status, token: `token-${route.order}-${i}-abcdefghijklmnopqrstuvwxyz0123456789` };
        if (endpoint === 'challenge') return { answer: { status: 200, body: challenge } };
        return { answer: { status: 200, body: { status, identifier: order.identifiers[i], challenges: [challenge] } } };
      }
      case 'finalize': {
        if (!order) return { answer: notFound() };
        const csr = typeof payload?.csr === 'string' ? payload.csr : '';
        order.csrPublicKeyPem = csrPublicKeyPem(csr);
        return { answer: { status: 200, body: orderBody(route.order!, order) } };
      }
      case 'certificate': {
        if (!order?.csrPublicKeyPem) return { answer: notFound() };
        const dns = order.identifiers.filter((i) => i.type === 'dns').map((i) => i.value);
        const ip = order.identifiers.filter((i) => i.type === 'ip').map((i) => i.value);
        const leaf = leafWith({ dns, ip, issuer: pki.intermediate, publicKeyPem: order.csrPublicKeyPem }).pem;
        return { answer: certificateAnswer(leaf + pki.intermediate.pem) };
      }
    }
  };

  const stall = (response: ServerResponse, how: 'trickle' | 'endless'): void => {
    response.writeHead(200, { 'content-type': 'application/json', 'replay-nonce': `nonce${++nonce}` });
    if (how === 'trickle') {
      response.write('{');
      const timer = setInterval(() => response.write(' '), 1000);
      timers.add(timer);
      response.on('close', () => (clearInterval(timer), timers.delete(timer)));
      return;
    }
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = (): void => {
      while (!response.destroyed && response.write(chunk));
    };
    response.on('drain', pump);
    response.write('{');
    pump();
  };

  const send = (response: ServerResponse, answer: Answer): void => {
    const json = answer.raw === undefined && answer.body !== undefined;
    response.writeHead(answer.status, {
      ...(json ? { 'content-type': answer.status >= 400 ? 'application/problem+json' : 'application/json' } : {}),
      'replay-nonce': `nonce${++nonce}`,
      ...answer.headers,
    });
    response.end(answer.raw ?? (json ? JSON.stringify(answer.body) : undefined));
  };

  const listen = async (origin: () => string): Promise<{ server: Server; url: string }> => {
    const server = createServer((request, response) => {
      handle(request, response, origin()).catch((error: unknown) => {
        if (!response.headersSent) send(response, { status: 500, body: { type: 'urn:ietf:params:acme:error:serverInternal', detail: String(error) } });
      });
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };
  const main = await listen(() => base);
  const other = await listen(() => otherBase);
  base = main.url;
  otherBase = other.url;
  const stub: HostileCa = {
    directoryUrl: `${base}/dir`,
    base,
    otherBase,
    requests,
    script,
    requested: nextRequestTo,
    stop: async () => {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await Promise.all([main.server, other.server].map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
  return stub;
}

/** A certificate chain answer (RFC 8555 §7.4.2). */
export function certificateAnswer(pem: string): Answer {
  return { status: 200, headers: { 'content-type': 'application/pem-certificate-chain' }, raw: pem };
}

interface Route {
  endpoint: Endpoint | 'nonce';
  order?: number;
  authorization?: number;
}

function routeOf(path: string): Route | null {
  const fixed: Record<string, Endpoint | 'nonce'> = { '/dir': 'directory', '/nonce': 'nonce', '/new-account': 'newAccount', '/new-order': 'newOrder' };
  if (fixed[path]) return { endpoint: fixed[path] };
  // Whatever a test appended to the account URL it handed out.
  if (path.startsWith('/account/1')) return { endpoint: 'account' };
  let match = /^\/order\/(\d+)(\/finalize)?$/.exec(path);
  if (match) return { endpoint: match[2] ? 'finalize' : 'order', order: Number(match[1]) };
  match = /^\/(authz|chall)\/(\d+)\/(\d+)$/.exec(path);
  if (match) return { endpoint: match[1] === 'authz' ? 'authorization' : 'challenge', order: Number(match[2]), authorization: Number(match[3]) };
  match = /^\/cert\/(\d+)$/.exec(path);
  if (match) return { endpoint: 'certificate', order: Number(match[1]) };
  return null;
}

function notFound(): Answer {
  return { status: 404, body: { type: 'urn:ietf:params:acme:error:malformed', detail: 'not found' } };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The JWS payload of a POST (no signature is checked), or null for POST-as-GET and GET. */
function payloadOf(body: string): Record<string, unknown> | null {
  try {
    const jws = JSON.parse(body) as { payload?: string };
    return jws.payload ? (JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The public key (PEM) of a CSR given as base64url DER; node-forge reads RSA keys only. */
function csrPublicKeyPem(csrBase64Url: string): string {
  const der = Buffer.from(csrBase64Url, 'base64url').toString('binary');
  const csr = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(der));
  return forge.pki.publicKeyToPem(csr.publicKey!);
}
