import type { Http01Solver } from '../domain/http01.js';
import { OperationError } from '../domain/errors.js';
import type { ProgressListener } from '../domain/events.js';
import { judgeWebrootProbe } from './doctor/webroot-served.js';
import type { WebrootProber } from './doctor/webroot-served.js';
import type { IssueRequest } from './issue-request.js';

/** The webroot probe failed before the order: nothing was sent to the CA. */
export class WebrootPreflightError extends OperationError {}

/**
 * Before an order of the webroot method: the probe of `acmectl doctor` through the certificate's names, with the
 * order's own solver writing the token. A failed validation costs an authorization failure the CA's rate limits
 * count; a failed probe costs nothing, so a fail stops here (WebrootPreflightError, with the doctor's fix) and a
 * warning (a name with no address here) is said and the order goes ahead.
 */
export async function preflightWebroot(request: IssueRequest, solver: Http01Solver, probe: WebrootProber, progress: ProgressListener): Promise<void> {
  const webroot = request.settings.webroot;
  if (request.settings.challenge !== 'webroot' || webroot === null) return;
  const names = request.identifiers.map((i) => i.value);
  const event = { step: 'preflight', id: request.name } as const;
  progress({ ...event, phase: 'start', message: `probing the webroot ${webroot} through ${names.join(', ')}` });
  const check = judgeWebrootProbe(await probe(solver, names, request.settings.httpPort), webroot, request.name);
  if (check.verdict === 'fail') {
    progress({ ...event, phase: 'failed', message: 'webroot probe failed: nothing was sent to the CA' });
    throw new WebrootPreflightError(`the webroot probe failed: ${check.detail}`, { hint: `${check.fix ?? ''}; --no-preflight skips the probe` });
  }
  const fix = check.verdict === 'warn' && check.fix ? ` (${check.fix})` : '';
  progress({ ...event, phase: check.verdict === 'warn' ? 'warned' : 'done', message: `webroot probe: ${check.detail}${fix}` });
}
