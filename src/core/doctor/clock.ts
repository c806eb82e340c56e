import type { Check } from './check.js';
import { fail, ok, warn } from './check.js';

// A CA's Date header has whole seconds and the request takes a moment: a minute is clearly the clock. Five minutes
// off, certificates look not yet valid to strict clients, shared-store locks (tens of seconds) misjudge their
// holders, and renewal times shift.
const WARN_SKEW_S = 60;
const FAIL_SKEW_S = 300;

/** This machine's clock against the CA's Date header. */
export function checkClock(server: string, serverDate: Date | null, readAt: Date): Check {
  if (serverDate === null) return warn('clock', null, `${server} sent no Date header: the clock was not checked`, null);
  const skewS = Math.round((readAt.getTime() - serverDate.getTime()) / 1000);
  const how = skewS === 0 ? 'agrees with' : `is ${Math.abs(skewS)} s ${skewS > 0 ? 'ahead of' : 'behind'}`;
  const detail = `this machine's clock ${how} the CA's (${serverDate.toISOString()})`;
  const fix = 'synchronise the clock: timedatectl set-ntp true, or install chrony or systemd-timesyncd';
  if (Math.abs(skewS) > FAIL_SKEW_S) return fail('clock', null, detail, fix);
  if (Math.abs(skewS) > WARN_SKEW_S) return warn('clock', null, detail, fix);
  return ok('clock', null, detail);
}
