import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A STAND-IN for ZeroSSL's EAB credentials endpoint (POST https://api.zerossl.com/acme/eab-credentials-email,
 * form field `email`), which cannot be reached from here. It answers as ZeroSSL documents: `{"success": true,
 * "eab_kid", "eab_hmac_key"}`, or `{"success": false, "error": {"code", "type", "info"}}` for an address it
 * refuses. The credentials it hands out are the ones the test's Pebble accepts. Plain http on loopback.
 */
export interface EabStandin {
  url: string;
  /** Every request: method, content type and the decoded form. */
  requests: { method: string; contentType: string; form: Record<string, string> }[];
  stop(): Promise<void>;
}

export async function startEabStandin(credentials: { kid: string; hmacKey: string }, refuse: (email: string) => boolean = () => false): Promise<EabStandin> {
  const requests: EabStandin['requests'] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      requests.push({ method: request.method ?? '', contentType: request.headers['content-type'] ?? '', form });
      const email = form.email ?? '';
      const answer =
        request.method !== 'POST' || email === ''
          ? { success: false, error: { code: 2831, type: 'missing_email', info: 'email is required' } }
          : refuse(email)
            ? { success: false, error: { code: 2833, type: 'invalid_email', info: 'the email address is not valid' } }
            : { success: true, eab_kid: credentials.kid, eab_hmac_key: credentials.hmacKey };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/acme/eab-credentials-email`,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
