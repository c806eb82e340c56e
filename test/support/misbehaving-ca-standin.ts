import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A STAND-IN for an ACME CA that misbehaves in ways Pebble cannot be asked to: it registers accounts, then
 * answers newOrder with a configurable problem document (e.g. rejectedIdentifier with per-identifier
 * subproblems, as Let's Encrypt does), possibly after some server errors (HTTP 500), or never answers at all.
 * Plain http on loopback only; it checks no signatures — it exists to exercise acmectl's error paths, not the
 * protocol — but it does keep RFC 8555's nonce rule: a nonce it did not give out, or one already used, gets
 * badNonce (with a fresh nonce), as at a real CA; `rejectNoncesFirst` makes it refuse that many good nonces too.
 */
export interface MisbehavingCa {
  directoryUrl: string;
  requests: string[];
  /** The nonce in the protected header of each signed request, in order, with the request's path. */
  signedNonces: { path: string; nonce: string }[];
  stop(): Promise<void>;
}

export type Misbehaviour =
  | { newOrderProblem: Record<string, unknown>; status?: number; serverErrorsFirst?: number; rejectNoncesFirst?: number }
  | { hangOn: 'directory' | 'newOrder' };

export async function startMisbehavingCa(behaviour: Misbehaviour, directoryMeta: Record<string, unknown> = {}): Promise<MisbehavingCa> {
  const requests: string[] = [];
  let base = '';
  const hanging: ServerResponse[] = [];
  let nonce = 0;
  const [givenOut, used] = [new Set<string>(), new Set<string>()];
  const signedNonces: { path: string; nonce: string }[] = [];
  let newOrders = 0;
  const server: Server = createServer(async (request, response) => {
    const path = request.url ?? '/';
    requests.push(`${request.method} ${path}`);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const fresh = `nonce${++nonce}`;
      givenOut.add(fresh);
      response.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', 'replay-nonce': fresh, ...headers });
      response.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (request.method === 'POST') {
      const sent = protectedNonce(Buffer.concat(chunks).toString('utf8'));
      signedNonces.push({ path, nonce: sent });
      const rejecting = 'newOrderProblem' in behaviour && signedNonces.length <= (behaviour.rejectNoncesFirst ?? 0);
      if (rejecting || !givenOut.has(sent) || used.has(sent)) return send(400, { type: 'urn:ietf:params:acme:error:badNonce', detail: `JWS has an invalid anti-replay nonce: "${sent}"` });
      used.add(sent);
    }
    if ('hangOn' in behaviour && ((behaviour.hangOn === 'directory' && path === '/dir') || (behaviour.hangOn === 'newOrder' && path === '/new-order'))) {
      hanging.push(response);
      return;
    }
    switch (path) {
      case '/dir':
        return send(200, { newNonce: `${base}/nonce`, newAccount: `${base}/new-account`, newOrder: `${base}/new-order`, meta: { termsOfService: `${base}/tos`, ...directoryMeta } });
      case '/nonce':
        return send(200, undefined);
      case '/new-account':
        return send(201, { status: 'valid' }, { location: `${base}/account/1` });
      case '/new-order':
        newOrders++;
        if ('newOrderProblem' in behaviour && newOrders <= (behaviour.serverErrorsFirst ?? 0)) {
          return send(500, { type: 'urn:ietf:params:acme:error:serverInternal', detail: `the stand-in's server error number ${newOrders}` });
        }
        if ('newOrderProblem' in behaviour) return send(behaviour.status ?? 400, behaviour.newOrderProblem);
        return send(500, { type: 'urn:ietf:params:acme:error:serverInternal' });
      default:
        return send(404, { type: 'urn:ietf:params:acme:error:malformed', detail: 'not found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    directoryUrl: `${base}/dir`,
    requests,
    signedNonces,
    stop: async () => {
      for (const response of hanging) response.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The nonce in a flattened JWS's protected header ('' when there is none). */
function protectedNonce(body: string): string {
  try {
    const jws = JSON.parse(body) as { protected?: string };
    const header = JSON.parse(Buffer.from(jws.protected ?? '', 'base64url').toString('utf8')) as { nonce?: unknown };
    return typeof header.nonce === 'string' ? header.nonce : '';
  } catch {
    return '';
  }
}
