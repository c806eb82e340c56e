import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { OperationError, UsageError } from '../domain/errors.js';
import { describeSocketError } from '../domain/network-failure.js';
import { visibleText } from '../domain/visible-text.js';
import type { ExternalAccountBinding } from './client.js';
import { isLoopbackHost } from './directory-presets.js';

/**
 * ZeroSSL hands out External Account Binding credentials for an email address, so that `--server zerossl
 * --email you@example.com` works without a visit to its dashboard: POST of the form field `email` to this
 * endpoint answers `{"success": true, "eab_kid": "...", "eab_hmac_key": "..."}`, or `{"success": false,
 * "error": {"code": ..., "type": "...", "info": "..."}}` (documented at zerossl.com, "ACME" API docs).
 */
export const ZEROSSL_EAB_ENDPOINT = 'https://api.zerossl.com/acme/eab-credentials-email';

// The answer is a few hundred bytes; anything much larger is not this API.
const MAX_ANSWER_BYTES = 64 * 1024;

export interface EabRequest {
  endpoint: string;
  email: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Asks the endpoint for credentials for `email`. The HMAC key is returned, never put into a message. */
export async function requestEabCredentials(request: EabRequest): Promise<ExternalAccountBinding> {
  const { status, body } = await postForm(request);
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    throw new OperationError(`${request.endpoint} answered HTTP ${status} with something other than JSON; no EAB credentials were obtained`);
  }
  const a = answer as { success?: unknown; eab_kid?: unknown; eab_hmac_key?: unknown; error?: { type?: unknown; info?: unknown; code?: unknown } };
  if (a?.success === true && typeof a.eab_kid === 'string' && typeof a.eab_hmac_key === 'string') {
    if (!/^[\w-]{1,256}$/.test(a.eab_kid) || !/^[A-Za-z0-9_-]{16,512}={0,2}$/.test(a.eab_hmac_key)) {
      throw new OperationError(`${request.endpoint} sent EAB credentials of an unexpected form; not using them`);
    }
    return { kid: a.eab_kid, hmacKey: a.eab_hmac_key.replace(/=+$/, '') };
  }
  const type = typeof a?.error?.type === 'string' ? a.error.type : undefined;
  const info = typeof a?.error?.info === 'string' ? a.error.info : undefined;
  const reason = visibleText([type, info].filter(Boolean).join(': '), 300) || `HTTP ${status}`;
  throw new OperationError(`${request.endpoint} gave no EAB credentials for ${request.email}: ${reason}`, {
    hint: 'check the email address, or get a key id and HMAC key from the CA and pass --eab-kid and --eab-hmac-key',
  });
}

/** The endpoint must be https, except on this machine (a test stand-in): the answer carries a secret. */
export function checkEabEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`the EAB endpoint ${JSON.stringify(endpoint)} is not a URL`);
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new UsageError(`the EAB endpoint ${endpoint} must be an https URL`);
  return url.href;
}

function postForm(request: EabRequest): Promise<{ status: number; body: string }> {
  const form = new URLSearchParams({ email: request.email }).toString();
  const url = new URL(request.endpoint);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const late = (): OperationError => new OperationError(`${request.endpoint} did not answer within ${Math.round(request.timeoutMs / 1000)} s`);
  let deadline: NodeJS.Timeout | undefined;
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form), 'user-agent': 'acmectl', accept: 'application/json' },
        timeout: request.timeoutMs,
        ...(request.signal ? { signal: request.signal } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            req.destroy(new OperationError(`${request.endpoint} answered with more than ${MAX_ANSWER_BYTES / 1024} KiB; not EAB credentials`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(late()));
    // `timeout` is the socket's idle timeout, which an answer trickling a byte at a time never reaches.
    deadline = setTimeout(() => req.destroy(late()), request.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof OperationError || error.name === 'AbortError') return reject(error);
      reject(new OperationError(`could not reach ${request.endpoint} for EAB credentials: ${describeSocketError(error.code) ?? error.message}`, { cause: error }));
    });
    req.end(form);
  }).finally(() => clearTimeout(deadline));
}
