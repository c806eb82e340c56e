import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { ExternalAccountBinding } from '../acme/client.js';
import { UsageError } from '../domain/errors.js';
import { visibleText } from '../domain/visible-text.js';

/** Checks of user input shared by several commands; each throws UsageError (exit 2) naming the flag. */

const EMAIL = /^[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f-\u009f]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** Said once, when an account is about to be registered without a contact address. */
export const NO_EMAIL_WARNING =
  "registering an ACME account without --email: the CA has no way to reach you about it (Let's Encrypt sends no expiry mail anyway); watch expiry with acmectl list --expiring 14 or your monitoring";

export function checkEmail(email: string | null): string | null {
  if (email === null) return null;
  if (!EMAIL.test(email)) throw new UsageError(`--email "${visibleText(email, 200)}" is not an email address`);
  return email;
}

/** Both EAB values or neither. The HMAC key must be base64url (padding and the +/ alphabet tolerated). */
export function checkEab(kid: string | null, hmacKey: string | null): ExternalAccountBinding | null {
  if (kid === null && hmacKey === null) return null;
  if (kid === null) throw new UsageError('--eab-hmac-key needs --eab-kid as well');
  if (hmacKey === null) throw new UsageError('--eab-kid needs --eab-hmac-key as well');
  // The key itself is never repeated in a message.
  if (!/^[A-Za-z0-9_\-+/]+={0,2}$/.test(hmacKey)) {
    throw new UsageError('--eab-hmac-key is not base64url text', { hint: 'paste the HMAC key exactly as the CA shows it' });
  }
  if (Buffer.from(hmacKey, 'base64').length < 16) throw new UsageError('--eab-hmac-key is too short to be an HMAC key from a CA');
  return { kid, hmacKey: hmacKey.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') };
}

export function checkDirectory(path: string, flag: string): string {
  const absolute = resolve(checkPathText(path, flag));
  let isDirectory = false;
  try {
    isDirectory = statSync(absolute).isDirectory();
  } catch {
    throw new UsageError(`${flag} ${absolute} does not exist`);
  }
  if (!isDirectory) throw new UsageError(`${flag} ${absolute} is not a directory`);
  return absolute;
}

/**
 * A path given for a flag: an empty one would mean the current directory (`--out ''` wrote there), and a control
 * character in it is a mistake (a pasted escape sequence), not a file name anyone meant.
 */
export function checkPathText(path: string, flag: string): string {
  if (path === '') throw new UsageError(`${flag} was given an empty path`, { hint: `give a directory, e.g. ${flag} /etc/ssl/acmectl` });
  if (/\p{Cc}/u.test(path)) throw new UsageError(`${flag} "${visibleText(path, 300)}" contains a control character`);
  return path;
}

/**
 * `--http-address`: one address or a comma-separated list; null means every address. An empty item (`,`, `a,`)
 * is refused, not dropped: a list that ends up empty would mean every address. Brackets only around IPv6.
 */
export function checkListenAddresses(value: string | null): string[] {
  if (value === null) return [];
  const hint = 'give IP addresses, comma separated, e.g. --http-address 127.0.0.1,::1';
  const addresses = value.split(',').map((item) => {
    const address = item.trim();
    if (address === '') throw new UsageError(`--http-address "${visibleText(value, 200)}" holds an empty address`, { hint });
    const bracketed = /^\[(.*)\]$/.exec(address);
    const bare = bracketed ? bracketed[1]! : address;
    if (isIP(bare) === 0 || (bracketed && isIP(bare) !== 6)) throw new UsageError(`--http-address "${visibleText(address, 200)}" is not an IP address`, { hint });
    return bare;
  });
  const repeated = addresses.find((address, index) => addresses.indexOf(address) !== index);
  if (repeated !== undefined) throw new UsageError(`--http-address names ${repeated} twice`, { hint });
  return addresses;
}

/**
 * `--preferred-chain`: an issuer common name, matched exactly against the top of each chain the CA offers. Blanks
 * around it or control characters cannot be part of a name anyone meant, and would only ever give "no match".
 */
export function checkPreferredChain(value: string | null): string | null {
  if (value === null) return null;
  if (value.trim() !== value || value === '') {
    throw new UsageError(`--preferred-chain "${visibleText(value, 200)}" starts or ends with blanks`, { hint: 'give the issuer name exactly, e.g. --preferred-chain "ISRG Root X1"' });
  }
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new UsageError('--preferred-chain contains a control character');
  return value;
}
