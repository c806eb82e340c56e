import { CHALLENGE_PATH_PREFIX } from '../domain/http01.js';
import type { AnswerSource, ValidationFailure } from '../domain/http01.js';
import { shortProblemType } from '../domain/problem-type.js';

/**
 * The one thing to check after a failed validation, for the way this host answered it. The port is the one the
 * CA says it used (its detail names the URL it fetched: port 80 for a real CA, another for a test CA), compared
 * with the port acmectl listened on. Undefined when the failure is not about reaching the answer.
 */
export function validationHint(source: AnswerSource, failure: ValidationFailure): string | undefined {
  const name = failure.identifier;
  const port = portTheCaUsed(failure.detail) ?? 80;
  const url = `http://${name.includes(':') ? `[${name}]` : name}${port === 80 ? '' : `:${port}`}${CHALLENGE_PATH_PREFIX}`;
  switch (shortProblemType(failure.type)) {
    case 'dns':
      return `the CA could not resolve ${name}: check its A/AAAA records`;
    case 'connection':
      if (source.method === 'standalone' && source.port !== port) {
        return `the CA connected to port ${port} of ${name}, but acmectl listened on port ${source.port}: forward port ${port} to port ${source.port}, or use --http-port ${port}`;
      }
      if (source.method === 'store') {
        return `the CA could not connect to port ${port} of ${name}: check that every server behind ${name} runs acmectl serve (or passes ${CHALLENGE_PATH_PREFIX} to it) and that the firewall lets port ${port} in`;
      }
      return `the CA could not connect to port ${port} of ${name}: check that ${name} points at this server and that the firewall lets port ${port} in`;
    case 'unauthorized':
    case 'incorrectResponse':
      if (source.method === 'webroot') return `the CA did not get the token file from ${source.webroot}${CHALLENGE_PATH_PREFIX}: check that your web server serves ${url} from that directory`;
      if (source.method === 'store') return `the CA did not get the token from acmectl serve: check that every server behind ${name} runs it with this store`;
      return `something other than acmectl answered ${url}: a proxy or another web server in front of this one; stop it with --pre-hook, or use --webroot DIR with it`;
    default:
      return undefined;
  }
}

/** The port of the challenge URL a CA's problem detail names ("Fetching http://example.com:8080/.well-known/..."). */
function portTheCaUsed(detail: string | undefined): number | undefined {
  const match = /http:\/\/(?:\[[^\]]*\]|[^/:"\s]+)(?::(\d{1,5}))?\/\.well-known\/acme-challenge\//.exec(detail ?? '');
  if (!match) return undefined;
  return match[1] === undefined ? 80 : Number(match[1]);
}
