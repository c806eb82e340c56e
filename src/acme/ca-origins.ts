import { OperationError } from '../domain/errors.js';
import { visibleText } from '../domain/visible-text.js';
import { DIRECTORY_ENDPOINTS } from './acme-objects.js';
import type { AcmeDirectory } from './acme-objects.js';

/**
 * Where a CA may send acmectl's signed requests (README "What acmectl accepts from a CA"): to the origin
 * (scheme, host and port) of its directory, and to the origins of the endpoints its directory names (newNonce,
 * newAccount, newOrder, revokeCert, keyChange, renewalInfo). The URLs a CA hands out later (account, order,
 * authorization, challenge, finalize and certificate URLs) must be on one of those origins: otherwise a CA, or
 * whoever tampers with one answer, could make acmectl sign requests for another server.
 */
export function allowedOrigins(directoryUrl: string, directory: AcmeDirectory): ReadonlySet<string> {
  const origins = new Set<string>([new URL(directoryUrl).origin]);
  for (const endpoint of DIRECTORY_ENDPOINTS) {
    const url = directory[endpoint];
    if (typeof url === 'string') origins.add(new URL(url).origin);
  }
  return origins;
}

/** Throws, before anything is sent, when `url` is not on one of the `allowed` origins. */
export function checkOnCaOrigin(url: string, allowed: ReadonlySet<string>): void {
  let origin: string | undefined;
  try {
    origin = new URL(url).origin;
  } catch {
    origin = undefined;
  }
  if (origin !== undefined && allowed.has(origin)) return;
  throw new OperationError(`the CA sent a URL on another host: ${visibleText(url, 300)}; not following it`, {
    hint: `acmectl sends requests only to ${[...allowed].join(', ')} (the origins its directory names): check the --server URL, and report it to the CA if it persists`,
  });
}
