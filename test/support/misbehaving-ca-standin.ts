import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A STAND-IN for an ACME CA that misbehaves in ways Pebble cannot be asked to: it registers accounts, then
 * answers newOrder with a configurable problem document (e.g. rejectedIdentifier with per-identifier
 * subproblems, as Let's Encrypt does), or never answers at all. Plain http on loopback only; it checks no
 * signatures — it exists to exercise acmectl's error paths, not the protocol.
 */
export interface MisbehavingCa {
  directoryUrl: string;
  requests: string[];
  stop(): Promise<void>;
}

export type Misbehaviour = { newOrderProblem: Record<string, unknown>; status?: number } | { hangOn: 'directory' | 'newOrder' };

export async function startMisbehavingCa(behaviour: Misbehaviour, directoryMeta: Record<string, unknown> = {}): Promise<MisbehavingCa> {
  const requests: string[] = [];
  let base = '';
  const hanging: ServerResponse[] = [];
  let nonce = 0;
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push(`${request.method} ${path}`);
    request.resume();
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      response.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', 'replay-nonce': `nonce${++nonce}`, ...headers });
      response.end(body === undefined ? undefined : JSON.stringify(body));
    };
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
    stop: async () => {
      for (const response of hanging) response.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
