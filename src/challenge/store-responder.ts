import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../store/store.js';
import { lookupAnswer, respond } from './standalone.js';
import { challengeKey } from './store-published.js';
import { CHALLENGE_PATH_PREFIX, isValidToken } from '../domain/http01.js';

export interface ServedRequest {
  method: string;
  /** The path as requested, cut to 200 characters for the log. */
  path: string;
  status: number;
  remote: string;
  ms: number;
}

/**
 * The request handler of `acmectl serve`: answers GET/HEAD /.well-known/acme-challenge/<token> with the key
 * authorization some node published to the shared store, 404 for anything else (wrong method, path or
 * token, or a token nobody published), 413 for a request with a body, 503 when the store cannot be read.
 * Nothing but challenge answers is ever served.
 */
export function storeResponder(store: Store, onServed: (request: ServedRequest) => void): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const started = Date.now();
    const finish = (status: number): void => {
      onServed({
        method: (request.method ?? '?').slice(0, 16),
        path: (request.url ?? '').slice(0, 200),
        status,
        remote: request.socket.remoteAddress ?? '?',
        ms: Date.now() - started,
      });
    };
    const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
    if (hasBody) {
      response.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('request bodies are not accepted\n');
      request.socket.destroySoon();
      finish(413);
      return;
    }
    const path = (request.url ?? '').split('?')[0]!;
    const token = path.startsWith(CHALLENGE_PATH_PREFIX) ? path.slice(CHALLENGE_PATH_PREFIX.length) : '';
    if ((request.method !== 'GET' && request.method !== 'HEAD') || !isValidToken(token)) {
      respond(request, response, undefined);
      finish(404);
      return;
    }
    store.get(challengeKey(token)).then(
      (entry) => {
        const answer = lookupAnswer(request, () => (entry ? Buffer.from(entry.value).toString('utf8') : undefined));
        respond(request, response, answer);
        finish(answer === undefined ? 404 : 200);
      },
      () => {
        response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' }).end('the store is not reachable\n');
        finish(503);
      },
    );
  };
}
