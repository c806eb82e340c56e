// Property-based tests of the store URL parser (fast-check): any text either parses into a store of a known kind or
// is refused with a UsageError (exit 2); never another error. A secret given in the URL never appears in the
// error message, the parsed config's printable form, or its display.
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../domain/errors.js';
import { parseStoreUrl } from './open.js';

const SECRET = 'Zq7sEcr3tXv';
const scheme = fc.constantFrom('sqlite:', 'memory:', 'redis://', 'rediss://', 'etcd://', 'etcd+https://', 'consul://', 'consul+https://', 'vault://', 'vault+https://', 'http://', 'file:', '');
const host = fc.oneof(fc.constantFrom('127.0.0.1', 'localhost', '[::1]', 'redis.internal', 'a,b', '', '[::1', 'h:99999', 'h:0'), fc.string({ maxLength: 8 }));
const port = fc.oneof(fc.constant(''), fc.integer({ min: -1, max: 70000 }).map((n) => `:${n}`));
const path = fc.oneof(fc.constantFrom('', '/', '/0', '/secret/acmectl/', '/%zz', '/a/../b', '/kv%2Fteam/x'), fc.string({ maxLength: 8 }).map((s) => `/${s}`));
const parameter = fc.oneof(
  fc.constantFrom(`token=${SECRET}`, `password=${SECRET}`, `secret_id=${SECRET}`, 'timeout=0', 'timeout=5000', 'timeout=x', 'tls_verify=false', 'prefix=acme/', 'auth=approle', 'role_id=r', 'dc=eu', 'token_file=', 'bogus=1'),
  fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })).map(([k, v]) => `${k}=${v}`),
);
const query = fc.array(parameter, { maxLength: 4 }).map((list) => (list.length ? `?${list.join('&')}` : ''));
const userInfo = fc.constantFrom('', `:${SECRET}@`, `user:${SECRET}@`, 'user@', '@');
/** Store URLs near the accepted forms, and some noise. */
const storeUrl = fc.oneof(
  fc.tuple(scheme, userInfo, host, port, path, query).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

function parse(url: string): { ok: true; kind: string; printed: string } | { ok: false; error: unknown } {
  try {
    const parsed = parseStoreUrl(url, { env: {}, cwd: '/tmp', homeDir: '/root' });
    return { ok: true, kind: parsed.kind, printed: `${JSON.stringify(parsed)} ${inspect(parsed, { depth: 5 })}` };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('parseStoreUrl, for any text', () => {
  it('parses into a known kind of store, or refuses with a UsageError (exit 2), never another error', () => {
    fc.assert(
      fc.property(storeUrl, (url) => {
        const result = parse(url);
        if (!result.ok) {
          expect(result.error, String(result.error)).toBeInstanceOf(UsageError);
          return;
        }
        expect(['sqlite', 'memory', 'redis', 'etcd', 'consul', 'vault']).toContain(result.kind);
      }),
      { numRuns: 3000 },
    );
  });

  it('never shows a secret given in the URL: not in the error, not in the parsed config however it is printed', () => {
    fc.assert(
      fc.property(storeUrl.filter((url) => url.includes(SECRET) && !url.startsWith('sqlite:')), (url) => {
        const result = parse(url);
        const shown = result.ok ? result.printed : `${(result.error as Error).message} ${(result.error as UsageError).hint ?? ''}`;
        expect(shown).not.toContain(SECRET);
      }),
      { numRuns: 3000 },
    );
  });
});
