/**
 * A corpus of malformed command lines: names, flags, URLs, config files and environment values. Each row runs
 * the built CLI as a child process (several at once) with --json against a populated SQLite store (an account,
 * a certificate, a lock fence): exit 2, the message on stderr, no stack trace, exactly one JSON document
 * `{ok: false, error}` with exit code 2 on stdout, not one row of any table of the store changed (lock leases
 * and fences included), and no file added or changed. Every fifth row runs again without --json where no
 * store exists yet: the same, and no store is created.
 *
 * The CA is an address where nothing listens: had acmectl asked it anything, it would have exited 1.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renewalSettings } from '../support/renewal-settings.js';
import { accountKey } from '../../src/core/accounts.js';
import { certificateKey, encodeRecord } from '../../src/core/certificate-record.js';
import type { CertificateRecord } from '../../src/core/certificate-record.js';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../support/cli.js';
import { sqliteDump, treeSnapshot } from '../support/store-snapshot.js';
import { tempDir } from '../support/temp-dir.js';

const CA = 'https://127.0.0.1:9/dir';
// Given first, so that a row's own --server comes later and wins.
const NOWHERE = ['--server', CA];
const KEPT = 'keep.example.com';

interface Row {
  args: string[];
  message: RegExp;
  env?: Record<string, string>;
  /** Written as <cwd>/<name> before the run (the working directory is searched for config files). */
  files?: Record<string, string>;
  /** False: no --server before the row's arguments (the row's environment names the CA). */
  serverFlag?: false;
  /** Refused for what the populated store holds (only run against it). */
  needsStore?: true;
}

const issue = (...args: string[]): string[] => ['issue', ...args];
/** An issue that passes every earlier check, so that the row's own flag is what is refused. */
const issueOk = (...args: string[]): string[] => ['issue', 'x.example.com', '--agree-tos', ...args];

const NAMES: [string, RegExp][] = [
  ['good.example.com\\evil.attacker.com', /"\\" cannot be part of a name/],
  ['evil.example.com#x', /"#" cannot be part of a name/],
  ['x.example.com?y', /"\?" cannot be part of a name/],
  ['ex%61mple.com', /"%" cannot be part of a name/],
  ['example.com\n', /control character \\u\{000a\}/],
  ['exa\tmple.com', /control character \\u\{0009\}/],
  ['\u001b[2Jexample.com', /control character \\u\{001b\}/],
  ['example.com\u0085', /control character \\u\{0085\}/],
  ['\u009b31mexample.com', /control character \\u\{009b\}/],
  ['ex\u200bample.com', /invisible character U\+200B/],
  ['ex\u00adample.com', /invisible character U\+00AD/],
  ['ex\u200dample.com', /invisible character U\+200D/],
  ['\ufeffexample.com', /invisible character U\+FEFF/],
  ['ex\u2060ample.com', /invisible character U\+2060/],
  ['\uff45xample.com', /IDNA would turn/],
  ['example\u3002com', /IDNA would turn/],
  ['\ufb01le.example.com', /IDNA would turn/],
  ['exam\u202eple.com', /invisible character U\+202E/],
  ['fe80::1%eth0', /address with a zone \(%eth0\)/],
  ['[fe80::1%25eth0]', /address with a zone/],
  ['0.0.0.0', /unspecified address/],
  ['::', /unspecified address/],
  ['[::]', /unspecified address/],
  ['::ffff:0.0.0.0', /unspecified address/],
  ['224.0.0.1', /multicast address/],
  ['239.255.255.250', /multicast address/],
  ['ff02::1', /multicast address/],
  ['[ff05::2]', /multicast address/],
  ['*.example.com', /wildcard/],
  ['www.*.example.com', /wildcard/],
  ['example..com', /not a valid domain name/],
  ['.example.com', /not a valid domain name/],
  ['example.com..', /not a valid domain name/],
  ['--', /missing required argument 'domain'/],
  ['bad-.example.com', /not a valid domain name/],
  ['under_score.example.com', /"_" cannot be part of a name/],
  ['https://example.com', /not a domain name/],
  ['example.com:443', /not a domain name/],
  ['user@example.com', /not a domain name/],
  ['example.com/path', /not a domain name/],
  ['exa mple.com', /not a domain name/],
  [' example.com', /not a domain name/],
  ['example.com ', /not a domain name/],
  ['', /empty domain name/],
  ['localhost', /not a fully qualified domain name/],
  ['com', /not a fully qualified domain name/],
  ['1.2.3', /last label is numeric/],
  ['example.123', /last label is numeric/],
  ['0x7f.1', /last label is numeric/],
  ['[127.0.0.1', /"\[" cannot be part of a name/],
  ['[::1', /not a domain name/],
  ['xn--a.example.com', /not a valid domain name/],
  ['xn--.example.com', /not a valid domain name/],
  [`${'a'.repeat(64)}.example.com`, /longer than 63/],
  [`${'abcdefghi.'.repeat(25)}example.com`, /too long/],
  ['exa"mple.com', /""" cannot be part of a name/],
  ["exa'mple.com", /"'" cannot be part of a name/],
  ['exa;mple.com', /";" cannot be part of a name/],
  ['$(reboot).example.com', /"\$" cannot be part of a name/],  // More characters, invisible and look-alike ones, and addresses that name no single host.
  ['exa!mple.com', /"exa!mple\.com" is not a valid domain name: "!" cannot be part of a name/],
  ['exa&mple.com', /"exa&mple\.com" is not a valid domain name: "&" cannot be part of a name/],
  ['exa|mple.com', /"exa\|mple\.com" is not a valid domain name: "\|" cannot be part of a name/],
  ['exa<mple.com', /"exa<mple\.com" is not a valid domain name: "<" cannot be part of a name/],
  ['exa>mple.com', /"exa>mple\.com" is not a valid domain name: ">" cannot be part of a name/],
  ['exa`mple.com', /"exa`mple\.com" is not a valid domain name: "`" cannot be part of a name/],
  ['exa(mple.com', /"exa\(mple\.com" is not a valid domain name: "\(" cannot be part of a name/],
  ['exa)mple.com', /"exa\)mple\.com" is not a valid domain name: "\)" cannot be part of a name/],
  ['exa,mple.com', /"exa,mple\.com" is not a valid domain name: "," cannot be part of a name/],
  ['exa=mple.com', /"exa=mple\.com" is not a valid domain name: "=" cannot be part of a name/],
  ['exa+mple.com', /"exa\+mple\.com" is not a valid domain name: "\+" cannot be part of a name/],
  ['exa~mple.com', /"exa~mple\.com" is not a valid domain name: "~" cannot be part of a name/],
  ['exa^mple.com', /"exa\^mple\.com" is not a valid domain name: "\^" cannot be part of a name/],
  ['exa{mple.com', /"exa\{mple\.com" is not a valid domain name: "\{" cannot be part of a name/],
  ['exa}mple.com', /"exa\}mple\.com" is not a valid domain name: "\}" cannot be part of a name/],
  ['exa]mple.com', /"exa\]mple\.com" is not a valid domain name: "\]" cannot be part of a name/],
  ['-', /"-" is not a fully qualified domain name/],
  ['.', /"\." is not a valid domain name/],
  ['..', /"\.\." is not a valid domain name: "" may only hold letters, digits and inner hyphens/],
  ['...', /"\.\.\." is not a valid domain name: "" may only hold letters, digits and inner hyphens/],
  ['ex\u2028ample.com', /"ex\u2028ample\.com" is not a domain name/],
  ['ex\u00a0ample.com', /"ex\u00a0ample\.com" is not a domain name/],
  ['ex\u034fample.com', /"ex\u034fample\.com" is not a valid domain name: IDNA would turn "ex\u034fample" into "example" \(U\+034F is not kept\)/],
  ['\u2066example.com', /"\\u\{2066\}example\.com" is not a valid domain name: it contains the invisible character U\+2066/],
  ['ex\u061cample.com', /"ex\\u\{061c\}ample\.com" is not a valid domain name: it contains the invisible character U\+061C/],
  ['ex\u200eample.com', /"ex\\u\{200e\}ample\.com" is not a valid domain name: it contains the invisible character U\+200E/],
  ['256.1.1.1', /"256\.1\.1\.1" is not a valid domain name: its last label is numeric/],
  ['1.2.3.4.5', /"1\.2\.3\.4\.5" is not a valid domain name: its last label is numeric/],
  ['127.1', /"127\.1" is not a valid domain name: its last label is numeric/],
  ['1::2::3', /"1::2::3" is not a domain name/],
  ['::1::', /"::1::" is not a domain name/],
  ['ff00::', /"ff00::" is a multicast address, which names no single host/],
  ['0::0', /"0::0" is the unspecified address, which names no host/],
  ['xn--zz.example.com', /"xn--zz\.example\.com" is not a valid domain name/],
  ['a.-b.com', /"a\.-b\.com" is not a valid domain name: "-b" may only hold letters, digits and inner hyphens/],
  ['a.b-.com', /"a\.b-\.com" is not a valid domain name: "b-" may only hold letters, digits and inner hyphens/],
  ['-a.example.com', /unknown option '-a\.example\.com'/],
  ['exa\u3000mple.com', /"exa\u3000mple\.com" is not a domain name/],
  ['ex\u2024ample.com', /"ex\u2024ample\.com" is not a valid domain name/],
  ['example.com\u0007', /"example\.com\\u\{0007\}" is not a domain name: it contains the control character \\u\{0007\}/],
  ['exa/mple.com', /"exa\/mple\.com" is not a domain name/],
];

const ROWS: [string, Row][] = [
  ...NAMES.map(([name, message]): [string, Row] => [`name ${JSON.stringify(name)}`, { args: issue(name), message }]),
  // After `--`, a leading hyphen is a name, not an option.
  ['a name with a leading hyphen', { args: issue('--', '-bad.example.com'), message: /"-bad\.example\.com" is not a valid domain name/ }],
  ['a duplicate name', { args: issue('a.example.com', 'a.example.com'), message: /duplicate name/ }],
  ['a duplicate name by case and final dot', { args: issue('a.example.com', 'A.EXAMPLE.com.'), message: /duplicate name/ }],
  ['a duplicate name by IDNA', { args: issue('bücher.example', 'xn--bcher-kva.example'), message: /duplicate name/ }],
  ['a duplicate address', { args: issue('::1', '0:0:0:0:0:0:0:1'), message: /duplicate name/ }],
  ['no name at all', { args: issue(), message: /missing required argument 'domain'/ }],

  // Flags of issue.
  ['an unknown option', { args: issue('x.example.com', '--colour'), message: /unknown option '--colour'/ }],
  ['an unknown option with an escape sequence', { args: issue('x.example.com', '--\u001b[2Jx'), message: /unknown option '--\\u\{001b\}\[2Jx'/ }],
  ['a flag without its value', { args: issue('x.example.com', '--email'), message: /option '--email <email>' argument missing/ }],
  ['an unknown key type', { args: issue('x.example.com', '--key-type', 'dsa'), message: /Allowed choices are ec256/ }],
  ['an unknown challenge', { args: issue('x.example.com', '--challenge', 'dns-01'), message: /Allowed choices are/ }],
  ['port 0', { args: issue('x.example.com', '--http-port', '0'), message: /--http-port: expected a whole number from 1 to 65535, got 0/ }],
  ['port 70000', { args: issue('x.example.com', '--http-port', '70000'), message: /--http-port: expected a whole number from 1 to 65535/ }],
  ['a port that is a word', { args: issue('x.example.com', '--http-port', 'eighty'), message: /--http-port: expected a whole number .* got "eighty"/ }],
  ['a negative port', { args: issue('x.example.com', '--http-port=-1'), message: /--http-port: expected a whole number/ }],
  ['a fractional port', { args: issue('x.example.com', '--http-port', '80.5'), message: /--http-port: expected a whole number/ }],
  ['a hook timeout of 0', { args: issue('x.example.com', '--hook-timeout', '0'), message: /--hook-timeout: expected a whole number from 1 to 3600/ }],
  ['a request timeout that is a word', { args: issue('x.example.com', '--request-timeout', 'long'), message: /--request-timeout: expected a whole number/ }],
  ['an order timeout too long', { args: issue('x.example.com', '--order-timeout', '99999'), message: /--order-timeout: expected a whole number from 1 to 3600/ }],
  ['a listen address list with nothing in it', { args: issue('x.example.com', '--http-address', ','), message: /--http-address "," holds an empty address/ }],
  ['a listen address list ending in a comma', { args: issue('x.example.com', '--http-address', '127.0.0.1,'), message: /holds an empty address/ }],
  ['an unclosed bracket in a listen address', { args: issue('x.example.com', '--http-address', '[::1'), message: /--http-address "\[::1" is not an IP address/ }],
  ['brackets around an IPv4 listen address', { args: issue('x.example.com', '--http-address', '[127.0.0.1]'), message: /is not an IP address/ }],
  ['a host name as listen address', { args: issue('x.example.com', '--http-address', 'localhost'), message: /--http-address "localhost" is not an IP address/ }],
  ['a listen address given twice', { args: issue('x.example.com', '--http-address', '::1,[::1]'), message: /names ::1 twice/ }],
  ['a webroot that does not exist', { args: issue('x.example.com', '--webroot', '/nonexistent/www'), message: /--webroot \/nonexistent\/www does not exist/ }],
  ['a webroot that is a file', { args: issue('x.example.com', '--webroot', '/dev/null'), message: /--webroot \/dev\/null is not a directory/ }],
  ['an empty webroot', { args: issue('x.example.com', '--webroot', ''), message: /--webroot: expected a value/ }],
  ['--standalone with --webroot', { args: issue('x.example.com', '--standalone', '--webroot', '/tmp'), message: /exclude each other/ }],
  ['--challenge webroot without a webroot', { args: issue('x.example.com', '--challenge', 'webroot'), message: /--challenge webroot needs --webroot/ }],
  ['--challenge store on SQLite', { args: issue('x.example.com', '--challenge', 'store'), message: /--challenge store needs a shared store/ }],
  ['a profile name with a blank', { args: issue('x.example.com', '--profile', 'short lived'), message: /is not a profile name/ }],
  ['a preferred chain with blanks around', { args: issue('x.example.com', '--preferred-chain', ' ISRG Root X1'), message: /starts or ends with blanks/ }],
  ['a preferred chain with a control character', { args: issue('x.example.com', '--preferred-chain', 'ISRG\u0007Root'), message: /contains a control character/ }],
  ['a bad email', { args: issueOk('--email', 'not-an-email'), message: /--email "not-an-email" is not an email address/ }],
  ['an email with a control character', { args: issueOk('--email', 'a\u0007@example.com'), message: /--email "a\\u\{0007\}@example\.com" is not an email address/ }],
  ['an email without a domain', { args: issueOk('--email', 'ops@'), message: /is not an email address/ }],
  ['an EAB key id alone', { args: issueOk('--eab-kid', 'kid-1'), message: /--eab-kid needs --eab-hmac-key/ }],
  ['an EAB key alone', { args: issueOk('--eab-hmac-key', 'c2VjcmV0LWtleS0xMjM0NTY3OA'), message: /--eab-hmac-key needs --eab-kid/ }],
  ['an EAB key that is not base64url', { args: issueOk('--eab-kid', 'k', '--eab-hmac-key', 'not base64!'), message: /--eab-hmac-key is not base64url text/ }],
  ['an EAB key too short', { args: issueOk('--eab-kid', 'k', '--eab-hmac-key', 'abc'), message: /too short to be an HMAC key/ }],
  ['a certificate name with a path', { args: issue('x.example.com', '--name', '../etc'), message: /cannot be a certificate name/ }],
  ['a certificate name with an escape sequence', { args: issue('x.example.com', '--name', 'a\u001b[2J'), message: /"a\\u\{001b\}\[2J" cannot be a certificate name/ }],
  ['an unknown export format', { args: issue('x.example.com', '--format', 'der'), message: /unknown export format "der"/ }],
  ['PKCS#12 without a password', { args: issueOk('--format', 'pkcs12'), message: /PKCS#12 export needs a password/ }],
  ['a PKCS#12 password file that is missing', { args: issueOk('--format', 'pkcs12', '--password-file', '/nonexistent/pw'), message: /nonexistent\/pw/ }],
  ['no account for the email and no --agree-tos', { needsStore: true, args: issue('x.example.com', '--email', 'other@example.com'), message: /no ACME account .* yet/ }],

  // Export directories that cannot work, found before the CA is asked.
  ['--out at /dev/null', { args: issueOk('--out', '/dev/null'), message: /--out \/dev\/null cannot be used: \/dev\/null exists and is not a directory/ }],
  ['--out under /dev/null', { args: issueOk('--out', '/dev/null/live'), message: /--out \/dev\/null\/live cannot be used: .*\/dev\/null is not a directory/ }],
  ['--out at /sys', { args: issueOk('--out', '/sys'), message: /--out \/sys cannot be used: no file can be created in it/ }],
  ['--out under /sys', { args: issueOk('--out', '/sys/acmectl-live'), message: /--out \/sys\/acmectl-live cannot be used/ }],
  ['--out at /proc', { args: issueOk('--out', '/proc'), message: /--out \/proc cannot be used/ }],
  ['--out under /proc', { args: issueOk('--out', '/proc/acmectl-live'), message: /--out \/proc\/acmectl-live cannot be used/ }],
  ['--out at a file', { args: issueOk('--out', './afile'), message: /--out .*\/afile cannot be used: .*afile exists and is not a directory/, files: { afile: 'x' } }],
  ['--out under a file', { args: issueOk('--out', './afile/live'), message: /--out .*\/afile\/live cannot be used/, files: { afile: 'x' } }],
  ['an empty --out', { args: issueOk('--out', ''), message: /--out: expected a value/ }],
  ['--out with an escape sequence', { args: issueOk('--out', '/tmp/live\u001b[2J'), message: /--out "\/tmp\/live\\u\{001b\}\[2J" contains a control character/ }],
  ['ACMECTL_OUT at /dev/null', { args: issueOk(), env: { ACMECTL_OUT: '/dev/null' }, message: /ACMECTL_OUT \/dev\/null cannot be used/ }],

  // CA and store URLs.
  ['a plain-http CA elsewhere', { args: issue('x.example.com', '--server', 'http://ca.example.com/dir'), message: /must start with https/ }],
  ['a plain-http CA whose name starts with 127.', { args: issue('x.example.com', '--server', 'http://127.example.com/dir'), message: /must start with https/ }],
  ['a plain-http CA on a 127.0.0.1 look-alike name', { args: issue('x.example.com', '--server', 'http://127.0.0.1.nip.io/dir'), message: /must start with https/ }],
  ['a plain-http CA on another address', { args: issue('x.example.com', '--server', 'http://10.0.0.1/dir'), message: /must start with https/ }],
  ['an ftp CA', { args: issue('x.example.com', '--server', 'ftp://ca.example.com/dir'), message: /must start with https/ }],
  ['an unknown CA name', { args: issue('x.example.com', '--server', 'letsencrypt-prod'), message: /neither a known CA nor a URL/ }],
  ['a CA name with an escape sequence', { args: issue('x.example.com', '--server', 'lets\u001b[2Jencrypt'), message: /"lets\\u\{001b\}\[2Jencrypt" is neither a known CA nor a URL/ }],
  ['a CA URL with credentials', { args: issue('x.example.com', '--server', 'https://user:pw@ca.example.com/dir'), message: /must not contain credentials/ }],
  ['an empty --server', { args: issue('x.example.com', '--server', ''), message: /--server: expected a value/ }],
  ['a store URL of an unknown scheme', { args: issue('x.example.com', '--store', 'bogus:thing'), message: /unknown store URL scheme/ }],
  ['a store URL without a scheme', { args: ['list', '--store', '/var/lib/acmectl/acmectl.db'], message: /the store URL has no scheme/ }],
  ['a Redis URL that is not a URL', { args: ['list', '--store', 'redis://[bad'], message: /not a valid URL/ }],
  ['a Redis URL with a bad database', { args: ['list', '--store', 'redis://127.0.0.1:6379/x'], message: /redis/i }],
  ['a store URL with an unknown parameter', { args: ['list', '--store', 'redis://127.0.0.1:6379/0?colour=red'], message: /colour/ }],
  ['a store timeout that is a word', { args: ['list', '--store', 'redis://127.0.0.1:6379/0?timeout=soon'], message: /timeout/ }],
  ['a store TLS switch that is neither', { args: ['list', '--store', 'rediss://127.0.0.1:6379/0?tls_verify=maybe'], message: /tls_verify/ }],
  ['an etcd URL without a host', { args: ['list', '--store', 'etcd:///acmectl/'], message: /etcd/ }],
  ['a Vault URL with an unknown auth method', { args: ['list', '--store', 'vault://127.0.0.1:8200/secret/acmectl/?auth=magic&token=t'], message: /magic|auth/ }],
  ['a Consul URL with a password', { args: ['list', '--store', 'consul://user:pw@127.0.0.1:8500/acmectl/'], message: /consul/i }],
  ['a store parameter with an escape sequence', { args: ['list', '--store', 'redis://127.0.0.1:6379/0?b\u001b[2Jogus=1'], message: /unknown parameter "b\\u\{001b\}\[2Jogus"/ }],
  ['a store timeout with an escape sequence', { args: ['list', '--store', 'redis://127.0.0.1:6379/0?timeout=\u001b[2J'], message: /got "\\u\{001b\}\[2J"/ }],
  ['a Vault auth method with an escape sequence', { args: ['list', '--store', 'vault://127.0.0.1:8200/secret/a/?auth=\u001b[2J'], message: /got "\\u\{001b\}\[2J"/ }],
  ['a CA bundle path with an escape sequence', { args: issue('x.example.com', '--ca-bundle', '/tmp/\u001b[1m'), message: /--ca-bundle \/tmp\/\\u\{001b\}\[1m cannot be read/ }],
  ['a config path with an escape sequence', { args: ['config', 'check', '--config', '/tmp/\u001b[1m'], message: /config file \/tmp\/\\u\{001b\}\[1m does not exist/ }],
  ['a webroot with an escape sequence', { args: issue('x.example.com', '--webroot', '/tmp/\u001b[1m'), message: /--webroot "\/tmp\/\\u\{001b\}\[1m" contains a control character/ }],
  ['a missing CA bundle', { args: issue('x.example.com', '--ca-bundle', '/nonexistent/ca.pem'), message: /--ca-bundle \/nonexistent\/ca\.pem cannot be read/ }],
  ['a CA bundle that is not PEM', { args: issue('x.example.com', '--ca-bundle', './junk.pem'), message: /holds no PEM certificate/, files: { 'junk.pem': 'not a certificate\n' } }],
  ['a CA bundle with a broken certificate', { args: issue('x.example.com', '--ca-bundle', './broken.pem'), message: /certificate 1 of 1 cannot be read/, files: { 'broken.pem': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } }],

  // Other commands.
  ['list with an unknown option', { args: ['list', '--bogus'], message: /unknown option '--bogus'/ }],
  ['list with an argument', { args: ['list', 'extra'], message: /too many arguments for 'list'/ }],
  ['list --expiring soon', { args: ['list', '--expiring', 'soon'], message: /--expiring takes a number of days, got "soon"/ }],
  ['list --expiring with an escape sequence', { args: ['list', '--expiring', '1\u001b[2J'], message: /got "1\\u\{001b\}\[2J"/ }],
  ['list --format of an unknown kind', { args: ['list', '--format', 'xml'], message: /Allowed choices are table, json, prometheus/ }],
  ['show without a name', { args: ['show'], message: /missing required argument 'name'/ }],
  ['show of an unknown name', { args: ['show', 'nope.example.com'], message: /there is no certificate named "nope\.example\.com"/ }],
  ['show of a name with a slash', { args: ['show', 'a/b'], message: /cannot be a certificate name/ }],
  ['export of an unknown name', { args: ['export', 'nope.example.com'], message: /there is no certificate named "nope\.example\.com"/ }],
  ['export of a version that is not kept', { needsStore: true, args: ['export', KEPT, '--version', '999'], message: /"keep\.example\.com" has no version 999/ }],
  ['export of version 0', { args: ['export', KEPT, '--version', '0'], message: /--version takes a version number/ }],
  ['export of version "latest"', { args: ['export', KEPT, '--version', 'latest'], message: /--version takes a version number .* got "latest"/ }],
  ['export to an empty --out', { args: ['export', KEPT, '--out', ''], message: /--out was given an empty path/ }],
  ['export in an unknown format', { args: ['export', KEPT, '--format', 'der'], message: /unknown export format "der"/ }],
  ['export without a name', { args: ['export'], message: /missing required argument 'name'/ }],
  ['delete of an unknown name', { args: ['delete', 'nope.example.com'], message: /there is no certificate named "nope\.example\.com"/ }],
  ['delete of a name with ..', { args: ['delete', 'a..b'], message: /cannot be a certificate name/ }],
  ['delete without a name', { args: ['delete'], message: /missing required argument 'name'/ }],
  ['revoke of an unknown name', { args: ['revoke', 'nope.example.com'], message: /there is no certificate named "nope\.example\.com"/ }],
  ['revoke with an unknown reason', { args: ['revoke', KEPT, '--reason', 'boredom'], message: /argument 'boredom' is invalid. Allowed choices are unspecified/ }],
  ['revoke without a name', { args: ['revoke'], message: /missing required argument 'name'/ }],
  ['renew of an unknown name', { args: ['renew', 'nope.example.com'], message: /there is no certificate named "nope\.example\.com"/ }],
  ['renew --days abc', { args: ['renew', '--days', 'abc'], message: /--days: expected a whole number from 0 to 3650, got "abc"/ }],
  ['renew --days 4000', { args: ['renew', '--days', '4000'], message: /--days: expected a whole number from 0 to 3650, got 4000/ }],
  ['renew --days -1', { args: ['renew', '--days=-1'], message: /--days: expected a whole number/ }],
  ['renew --concurrency 0', { args: ['renew', '--concurrency', '0'], message: /--concurrency: expected a whole number from 1 to 64/ }],
  ['renew --concurrency 65', { args: ['renew', '--concurrency', '65'], message: /--concurrency: expected a whole number from 1 to 64/ }],
  ['serve on an empty address list', { args: ['serve', '--http-address', ','], message: /holds an empty address/ }],
  ['serve on a port that is a word', { args: ['serve', '--http-port', 'http'], message: /--http-port: expected a whole number/ }],
  ['account register without --agree-tos', { args: ['account', 'register', '--email', 'a@example.com'], message: /needs your agreement/ }],
  ['account register with a bad email', { args: ['account', 'register', '--agree-tos', '--email', 'a@@example.com'], message: /is not an email address/ }],
  ['account update with a bad email', { args: ['account', 'update', '--email', 'bad'], message: /--email "bad" is not an email address/ }],
  ['account update with a bad current email', { args: ['account', 'update', '--email', 'a@example.com', '--current-email', 'bad\u0007'], message: /--current-email "bad\\u\{0007\}" is not an email address/ }],
  ['account deactivate off a terminal without --yes', { args: ['account', 'deactivate'], message: /cannot be undone/ }],
  ['account without a subcommand', { args: ['account'], message: /Usage: acmectl account/ }],
  ['store copy without --to', { args: ['store', 'copy'], message: /store copy needs --to URL/ }],
  ['store copy to a bad URL', { args: ['store', 'copy', '--to', 'bogus:x'], message: /unknown store URL scheme/ }],
  ['completion for an unknown shell', { args: ['completion', 'tcsh'], message: /Allowed choices are bash, zsh, fish/ }],
  ['an unknown command', { args: ['frobnicate'], message: /unknown command 'frobnicate'/ }],
  ['a global option after --', { args: ['list', '--', '--json'], message: /too many arguments for 'list'/ }],

  // Config files.
  ['a config file holding null', { args: ['config', 'check'], files: { 'acmectl.config.json': 'null' }, message: /config file .*acmectl\.config\.json holds null/ }],
  ['an empty config file', { args: ['config', 'check'], files: { 'acmectl.config.json': '' }, message: /config file .*acmectl\.config\.json is empty/ }],
  ['a config file of blanks', { args: ['config', 'check'], files: { 'acmectl.config.json': ' \n\t\n' }, message: /is empty/ }],
  ['a config file holding a list', { args: ['config', 'check'], files: { 'acmectl.config.json': '[]' }, message: /expected an object of settings, got a list/ }],
  ['a config file holding a string', { args: ['config', 'check'], files: { 'acmectl.config.json': '"x"' }, message: /expected an object of settings, got string/ }],
  ['a config file holding a number', { args: ['config', 'check'], files: { 'acmectl.config.json': '42' }, message: /expected an object of settings, got number/ }],
  ['a config file with constructor', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"constructor": "x"}' }, message: /unknown key "constructor"/ }],
  ['a config file with toString', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"toString": 1}' }, message: /unknown key "toString"/ }],
  ['a config file with __proto__', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"__proto__": {"httpPort": 8080}}' }, message: /unknown key "__proto__"/ }],
  ['a config file with hasOwnProperty', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"hasOwnProperty": null}' }, message: /unknown key "hasOwnProperty"/ }],
  ['a config file with a misspelt key', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"htpPort": 80}' }, message: /unknown key "htpPort"/ }],
  ['a config file with an escape sequence in a key', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"a\\u001b[2J": 1}' }, message: /unknown key "a\\u\{001b\}\[2J"/ }],
  ['a config file with the store password', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"storePassword": "pw"}' }, message: /read from the environment only \(ACMECTL_STORE_PASSWORD\)/ }],
  ['a config file with a port as text', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"httpPort": "80"}' }, message: /key "httpPort" in config file .*: expected a whole number/ }],
  ['a config file with a port out of range', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"httpPort": 70000}' }, message: /from 1 to 65535, got 70000/ }],
  ['a config file with an unknown key type', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"keyType": "rsa1024"}' }, message: /key "keyType" .*expected one of ec256/ }],
  ['a config file with agreeTos as text', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"agreeTos": "yes"}' }, message: /key "agreeTos" .*true or false/ }],
  ['a config file with an empty email', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"email": ""}' }, message: /key "email" .*non-empty string/ }],
  ['a config file with days as text', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"days": "30"}' }, message: /key "days" .*expected a whole number/ }],
  ['a config file with negative days', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"days": -1}' }, message: /key "days" .*from 0 to 3650/ }],
  ['a config file with randomSleep as text', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"randomSleep": "no"}' }, message: /key "randomSleep" .*true or false/ }],
  ['a config file with a null default-bearing key', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"httpPort": null}' }, message: /key "httpPort" .*expected a whole number/ }],
  ['a config file that is not JSON', { args: ['config', 'check'], files: { 'acmectl.config.json': '{ "httpPort": 80,, }' }, message: /config file could not be read/ }],
  ['a YAML config file holding null', { args: ['config', 'check'], files: { '.acmectlrc.yaml': '~\n' }, message: /\.acmectlrc\.yaml holds null/ }],
  ['a YAML config file of comments only', { args: ['config', 'check'], files: { '.acmectlrc.yml': '# nothing\n' }, message: /\.acmectlrc\.yml holds null/ }],
  ['a YAML config file with a bad value', { args: ['config', 'check'], files: { '.acmectlrc.yaml': 'concurrency: 0\n' }, message: /key "concurrency" .*from 1 to 64/ }],
  ['a config file given that does not exist', { args: ['config', 'check', '--config', '/nonexistent/acmectl.json'], message: /config file \/nonexistent\/acmectl\.json does not exist/ }],
  ['an empty config file given', { args: ['issue', 'x.example.com', '--config', './empty.json'], files: { 'empty.json': '' }, message: /empty\.json is empty/ }],
  ['a config file read by issue', { args: issue('x.example.com'), files: { 'acmectl.config.json': '{"challenge": "dns"}' }, message: /key "challenge" .*expected one of/ }],
  ['a config file read by renew', { args: ['renew'], files: { 'acmectl.config.json': '{"concurrency": 100}' }, message: /key "concurrency" .*from 1 to 64/ }],

  // Environment values.
  ['ACMECTL_DAYS=abc', { args: ['renew'], env: { ACMECTL_DAYS: 'abc' }, message: /environment variable ACMECTL_DAYS: expected a whole number from 0 to 3650, got "abc"/ }],
  ['ACMECTL_DAYS=-1', { args: ['renew'], env: { ACMECTL_DAYS: '-1' }, message: /environment variable ACMECTL_DAYS: .*got -1/ }],
  ['ACMECTL_NO_RANDOM_SLEEP=maybe', { args: ['renew'], env: { ACMECTL_NO_RANDOM_SLEEP: 'maybe' }, message: /environment variable ACMECTL_NO_RANDOM_SLEEP: expected true or false, got "maybe"/ }],
  ['ACMECTL_RANDOM_SLEEP against ACMECTL_NO_RANDOM_SLEEP', { args: ['renew'], env: { ACMECTL_RANDOM_SLEEP: 'yes', ACMECTL_NO_RANDOM_SLEEP: 'yes' }, message: /contradict each other/ }],
  ['ACMECTL_CONCURRENCY=0', { args: ['renew'], env: { ACMECTL_CONCURRENCY: '0' }, message: /environment variable ACMECTL_CONCURRENCY: expected a whole number from 1 to 64/ }],
  ['ACMECTL_HTTP_PORT=eighty', { args: issue('x.example.com'), env: { ACMECTL_HTTP_PORT: 'eighty' }, message: /environment variable ACMECTL_HTTP_PORT: .*got "eighty"/ }],
  ['ACMECTL_HTTP_PORT with an escape sequence', { args: issue('x.example.com'), env: { ACMECTL_HTTP_PORT: '8\u001b[2J0' }, message: /got "8\\u\{001b\}\[2J0"/ }],
  ['ACMECTL_KEY_TYPE=rsa1024', { args: issue('x.example.com'), env: { ACMECTL_KEY_TYPE: 'rsa1024' }, message: /environment variable ACMECTL_KEY_TYPE: expected one of/ }],
  ['ACMECTL_CHALLENGE=dns', { args: issue('x.example.com'), env: { ACMECTL_CHALLENGE: 'dns' }, message: /environment variable ACMECTL_CHALLENGE: expected one of/ }],
  ['ACMECTL_AGREE_TOS=perhaps', { args: issue('x.example.com'), env: { ACMECTL_AGREE_TOS: 'perhaps' }, message: /environment variable ACMECTL_AGREE_TOS: expected true or false/ }],
  ['ACMECTL_HOOK_TIMEOUT=0', { args: issue('x.example.com'), env: { ACMECTL_HOOK_TIMEOUT: '0' }, message: /environment variable ACMECTL_HOOK_TIMEOUT/ }],
  ['ACMECTL_REQUEST_TIMEOUT=601', { args: ['ca'], env: { ACMECTL_REQUEST_TIMEOUT: '601' }, message: /environment variable ACMECTL_REQUEST_TIMEOUT: expected a whole number from 1 to 600/ }],
  ['ACMECTL_HTTP_ADDRESS=,', { args: issue('x.example.com'), env: { ACMECTL_HTTP_ADDRESS: ',' }, message: /holds an empty address/ }],
  ['ACMECTL_EMAIL that is no address', { args: issueOk(), env: { ACMECTL_EMAIL: 'ops' }, message: /is not an email address/ }],
  ['ACMECTL_EAB_HMAC_KEY without a key id', { args: issueOk(), env: { ACMECTL_EAB_HMAC_KEY: 'c2VjcmV0LWtleS0xMjM0NTY3OA' }, message: /--eab-hmac-key needs --eab-kid/ }],
  ['ACMECTL_SERVER over plain http elsewhere', { args: ['issue', 'x.example.com'], serverFlag: false, env: { ACMECTL_SERVER: 'http://ca.example.com/dir' }, message: /must start with https/ }],
  ['ACMECTL_STORE of an unknown scheme', { args: ['list'], env: { ACMECTL_STORE: 'bogus:x' }, message: /unknown store URL scheme/ }],
  ['ACMECTL_PREFERRED_CHAIN with blanks', { args: issue('x.example.com'), env: { ACMECTL_PREFERRED_CHAIN: 'ISRG Root X1 ' }, message: /starts or ends with blanks/ }],
  ['ACMECTL_PROFILE with a slash', { args: issue('x.example.com'), env: { ACMECTL_PROFILE: 'a/b' }, message: /is not a profile name/ }],
  // More of each kind, named as typed: flags of every command, CA and store URLs, config files, environment.
  ['issue x.example.com --key-type ""', { args: ['issue', 'x.example.com', '--key-type', ''], message: /option '--key-type <type>' argument '' is invalid\. Allowed choices are ec256/ }],
  ['issue x.example.com --key-type EC256', { args: ['issue', 'x.example.com', '--key-type', 'EC256'], message: /option '--key-type <type>' argument 'EC256' is invalid\. Allowed choices are ec256/ }],
  ['issue x.example.com --http-port ""', { args: ['issue', 'x.example.com', '--http-port', ''], message: /--http-port: expected a whole number from 1 to 65535, got ""/ }],
  ['issue x.example.com --http-port 0x50', { args: ['issue', 'x.example.com', '--http-port', '0x50'], message: /--http-port: expected a whole number from 1 to 65535, got "0x50"/ }],
  ['issue x.example.com --http-port 1e3', { args: ['issue', 'x.example.com', '--http-port', '1e3'], message: /--http-port: expected a whole number from 1 to 65535, got "1e3"/ }],
  ['issue x.example.com --hook-timeout -5', { args: ['issue', 'x.example.com', '--hook-timeout', '-5'], message: /--hook-timeout: expected a whole number from 1 to 3600, got -5/ }],
  ['issue x.example.com --hook-timeout 3601', { args: ['issue', 'x.example.com', '--hook-timeout', '3601'], message: /--hook-timeout: expected a whole number from 1 to 3600, got 3601/ }],
  ['issue x.example.com --request-timeout 0', { args: ['issue', 'x.example.com', '--request-timeout', '0'], message: /--request-timeout: expected a whole number from 1 to 600, got 0/ }],
  ['issue x.example.com --request-timeout 601', { args: ['issue', 'x.example.com', '--request-timeout', '601'], message: /--request-timeout: expected a whole number from 1 to 600, got 601/ }],
  ['issue x.example.com --order-timeout 0', { args: ['issue', 'x.example.com', '--order-timeout', '0'], message: /--order-timeout: expected a whole number from 1 to 3600, got 0/ }],
  ['issue x.example.com --order-timeout 1.5', { args: ['issue', 'x.example.com', '--order-timeout', '1.5'], message: /--order-timeout: expected a whole number from 1 to 3600, got "1\.5"/ }],
  ['issue x.example.com --http-address 999.1.1.1', { args: ['issue', 'x.example.com', '--http-address', '999.1.1.1'], message: /--http-address "999\.1\.1\.1" is not an IP address/ }],
  ['issue x.example.com --profile ""', { args: ['issue', 'x.example.com', '--profile', ''], message: /--profile: expected a value/ }],
  ['issue x.example.com --preferred-chain ""', { args: ['issue', 'x.example.com', '--preferred-chain', ''], message: /--preferred-chain: expected a value/ }],
  ['issue x.example.com --name ""', { args: ['issue', 'x.example.com', '--name', ''], message: /"" cannot be a certificate name/ }],
  ['issue x.example.com --name .', { args: ['issue', 'x.example.com', '--name', '.'], message: /"\." cannot be a certificate name/ }],
  ['issue x.example.com --name a/../b', { args: ['issue', 'x.example.com', '--name', 'a/../b'], message: /"a\/\.\.\/b" cannot be a certificate name/ }],
  ['issue x.example.com --key-mode 0700', { args: ['issue', 'x.example.com', '--key-mode', '0700'], message: /--key-mode "0700" is not a mode for a private key/ }],
  ['issue x.example.com --key-mode 777', { args: ['issue', 'x.example.com', '--key-mode', '777'], message: /--key-mode "777" is not a mode for a private key/ }],
  ['issue x.example.com --format ""', { args: ['issue', 'x.example.com', '--format', ''], message: /unknown export format "": accepted formats are pem, combined, pkcs12/ }],
  ['issue x.example.com --format pem,der', { args: ['issue', 'x.example.com', '--format', 'pem,der'], message: /unknown export format "der": accepted formats are pem, combined, pkcs12/ }],
  ['issue x.example.com --agree-tos --email @example.com', { args: ['issue', 'x.example.com', '--agree-tos', '--email', '@example.com'], message: /--email "@example\.com" is not an email address/ }],
  ['issue x.example.com --agree-tos --email "a b@example.com"', { args: ['issue', 'x.example.com', '--agree-tos', '--email', 'a b@example.com'], message: /--email "a b@example\.com" is not an email address/ }],
  ['issue x.example.com --agree-tos --eab-kid k --eab-hmac-key ""', { args: ['issue', 'x.example.com', '--agree-tos', '--eab-kid', 'k', '--eab-hmac-key', ''], message: /--eab-hmac-key: expected a value/ }],
  ['issue x.example.com --agree-tos --eab-kid "" --eab-hmac-key c2VjcmV0LWtleS0xMjM0NTY3OA', { args: ['issue', 'x.example.com', '--agree-tos', '--eab-kid', '', '--eab-hmac-key', 'c2VjcmV0LWtleS0xMjM0NTY3OA'], message: /--eab-kid: expected a value/ }],
  ['renew --days 1.5', { args: ['renew', '--days', '1.5'], message: /--days: expected a whole number from 0 to 3650, got "1\.5"/ }],
  ['renew --days ""', { args: ['renew', '--days', ''], message: /--days: expected a whole number from 0 to 3650, got ""/ }],
  ['renew --concurrency abc', { args: ['renew', '--concurrency', 'abc'], message: /--concurrency: expected a whole number from 1 to 64, got "abc"/ }],
  ['renew --concurrency 1e1', { args: ['renew', '--concurrency', '1e1'], message: /--concurrency: expected a whole number from 1 to 64, got "1e1"/ }],
  ['renew --hook-timeout 0', { args: ['renew', '--hook-timeout', '0'], message: /--hook-timeout: expected a whole number from 1 to 3600, got 0/ }],
  ['renew --request-timeout x', { args: ['renew', '--request-timeout', 'x'], message: /--request-timeout: expected a whole number from 1 to 600, got "x"/ }],
  ['list --expiring -1', { args: ['list', '--expiring', '-1'], message: /--expiring takes a number of days, got "-1"/ }],
  ['list --expiring ""', { args: ['list', '--expiring', ''], message: /--expiring takes a number of days, got ""/ }],
  ['list --output /tmp/x.prom', { args: ['list', '--output', '/tmp/x.prom'], message: /--output writes Prometheus metrics/ }],
  ['export keep.example.com --version -1', { args: ['export', 'keep.example.com', '--version', '-1'], message: /--version takes a version number .*got "-1"/ }],
  ['export keep.example.com --version 1.5', { args: ['export', 'keep.example.com', '--version', '1.5'], message: /--version takes a version number .*got "1\.5"/ }],
  ['revoke keep.example.com --reason ""', { args: ['revoke', 'keep.example.com', '--reason', ''], message: /option '--reason <reason>' argument '' is invalid\. Allowed choices are unspecified/ }],
  ['doctor --http-port 0', { args: ['doctor', '--http-port', '0'], message: /--http-port: expected a whole number from 1 to 65535, got 0/ }],
  ['doctor --request-timeout 0', { args: ['doctor', '--request-timeout', '0'], message: /--request-timeout: expected a whole number from 1 to 600, got 0/ }],
  ['show keep.example.com extra', { args: ['show', 'keep.example.com', 'extra'], message: /too many arguments for 'show'\. Expected 1 argument but got 2\./ }],
  ['doctor --http-address ,', { args: ['doctor', '--http-address', ','], message: /--http-address "," holds an empty address/ }],
  ['serve --http-address localhost', { args: ['serve', '--http-address', 'localhost'], message: /--http-address "localhost" is not an IP address/ }],
  ['serve --http-port 70000', { args: ['serve', '--http-port', '70000'], message: /--http-port: expected a whole number from 1 to 65535, got 70000/ }],
  ['serve extra', { args: ['serve', 'extra'], message: /too many arguments for 'serve'\. Expected 0 arguments but got 1\./ }],
  ['completion', { args: ['completion'], message: /missing required argument 'shell'/ }],
  ['config show extra', { args: ['config', 'show', 'extra'], message: /too many arguments for 'show'\. Expected 0 arguments but got 1\./ }],
  ['schedule install --cron --systemd', { args: ['schedule', 'install', '--cron', '--systemd'], message: /--systemd and --cron exclude each other/ }],
  ['issue x.example.com --server https://', { args: ['issue', 'x.example.com', '--server', 'https://'], message: /--server "https:\/\/" is neither a known CA nor a URL/ }],
  ['issue x.example.com --server https://[::1', { args: ['issue', 'x.example.com', '--server', 'https://[::1'], message: /--server "https:\/\/\[::1" is neither a known CA nor a URL/ }],
  ['issue x.example.com --server javascript:alert(1)', { args: ['issue', 'x.example.com', '--server', 'javascript:alert(1)'], message: /--server javascript:alert\(1\): an ACME directory URL must start with https:\/\// }],
  ['issue x.example.com --server file:///etc/passwd', { args: ['issue', 'x.example.com', '--server', 'file:///etc/passwd'], message: /--server file:\/\/\/etc\/passwd: an ACME directory URL must start with https:\/\// }],
  ['issue x.example.com --server data:,x', { args: ['issue', 'x.example.com', '--server', 'data:,x'], message: /--server data:,x: an ACME directory URL must start with https:\/\// }],
  ['issue x.example.com --server https://ca.example.com:99999/dir', { args: ['issue', 'x.example.com', '--server', 'https://ca.example.com:99999/dir'], message: /--server "https:\/\/ca\.example\.com:99999\/dir" is neither a known CA nor a URL/ }],
  ['issue x.example.com --server http://localhost.evil.com/dir', { args: ['issue', 'x.example.com', '--server', 'http://localhost.evil.com/dir'], message: /--server http:\/\/localhost\.evil\.com\/dir: an ACME directory URL must start with https:\/\// }],
  ['list --store sqlite:', { args: ['list', '--store', 'sqlite:'], message: /the sqlite: store URL needs a file path \(sqlite:PATH\)/ }],
  ['list --store redis://', { args: ['list', '--store', 'redis://'], message: /the redis store URL redis:\/\/ names no host/ }],
  ['list --store redis://127.0.0.1:99999/0', { args: ['list', '--store', 'redis://127.0.0.1:99999/0'], message: /the redis store URL is not a valid URL/ }],
  ['list --store etcd://127.0.0.1:2379/?timeout=-1', { args: ['list', '--store', 'etcd://127.0.0.1:2379/?timeout=-1'], message: /etcd store URL: timeout must be milliseconds from 1 to 600000, got "-1"/ }],
  ['list --store mysql://127.0.0.1/acmectl', { args: ['list', '--store', 'mysql://127.0.0.1/acmectl'], message: /unknown store URL scheme "mysql:"; accepted forms: sqlite:PATH/ }],
  ['acmectl.config.json holding {"httpPort": 80.5}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"httpPort": 80.5}' }, message: /key "httpPort" in config file .*\/acmectl\.config\.json: expected a whole number from 1 to 65535, got 80\.5/ }],
  ['acmectl.config.json holding {"httpPort": true}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"httpPort": true}' }, message: /key "httpPort" in config file .*\/acmectl\.config\.json: expected a whole number from 1 to 65535/ }],
  ['acmectl.config.json holding {"keyType": null}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"keyType": null}' }, message: /key "keyType" in config file .*\/acmectl\.config\.json: expected one of ec256, ec384, rsa2048, rsa3072, rsa4096, got null/ }],
  ['acmectl.config.json holding {"concurrency": "4"}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"concurrency": "4"}' }, message: /key "concurrency" in config file .*\/acmectl\.config\.json: expected a whole number from 1 to 64/ }],
  ['acmectl.config.json holding {"email": 5}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"email": 5}' }, message: /key "email" in config file .*\/acmectl\.config\.json: expected a non-empty string/ }],
  ['acmectl.config.json holding {"store": "bogus:x"}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"store": "bogus:x"}' }, message: /unknown store URL scheme "bogus:"; accepted forms: sqlite:PATH/ }],
  ['acmectl.config.json holding {"hookTimeout": 0}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"hookTimeout": 0}' }, message: /key "hookTimeout" in config file .*\/acmectl\.config\.json: expected a whole number from 1 to 3600, got 0/ }],
  ['acmectl.config.json holding {"out": ""}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"out": ""}' }, message: /key "out" in config file .*\/acmectl\.config\.json: expected a non-empty string/ }],
  ['.acmectlrc.yaml holding httpPort:\\n\\t- 80\\n', { args: ['config', 'check'], files: { '.acmectlrc.yaml': 'httpPort:\u000a\u0009- 80\u000a' }, message: /config file could not be read: YAML Error in .*\/\.acmectlrc\.yaml: tab characters must not be used in indentation/ }],
  ['.acmectlrc holding junk', { args: ['config', 'check'], files: { '.acmectlrc': 'junk' }, message: /config file .*\/\.acmectlrc: expected an object of settings, got string/ }],
  ['acmectl.config.json holding {"httpPort": [80]}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"httpPort": [80]}' }, message: /key "httpPort" in config file .*\/acmectl\.config\.json: expected a whole number from 1 to 65535/ }],
  ['acmectl.config.json holding {"webroot": 7}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"webroot": 7}' }, message: /key "webroot" in config file .*\/acmectl\.config\.json: expected a non-empty string/ }],
  ['acmectl.config.json holding {"days": 1.5}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"days": 1.5}' }, message: /key "days" in config file .*\/acmectl\.config\.json: expected a whole number from 0 to 3650, got 1\.5/ }],
  ['acmectl.config.json holding {"Email": "a@example.com"}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"Email": "a@example.com"}' }, message: /config file .*\/acmectl\.config\.json: unknown key "Email"/ }],
  ['acmectl.config.json holding {"valueOf": 1}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"valueOf": 1}' }, message: /config file .*\/acmectl\.config\.json: unknown key "valueOf"/ }],
  ['acmectl.config.json holding {"prototype": {}}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"prototype": {}}' }, message: /config file .*\/acmectl\.config\.json: unknown key "prototype"/ }],
  ['acmectl.config.json holding {"settings": {"httpPort": 80}}', { args: ['config', 'check'], files: { 'acmectl.config.json': '{"settings": {"httpPort": 80}}' }, message: /config file .*\/acmectl\.config\.json: unknown key "settings"/ }],
  ['ACMECTL_DAYS="1.5" renew', { args: ['renew'], env: { ACMECTL_DAYS: '1.5' }, message: /environment variable ACMECTL_DAYS: expected a whole number from 0 to 3650, got "1\.5"/ }],
  ['ACMECTL_CONCURRENCY="65" renew', { args: ['renew'], env: { ACMECTL_CONCURRENCY: '65' }, message: /environment variable ACMECTL_CONCURRENCY: expected a whole number from 1 to 64, got 65/ }],
  ['ACMECTL_RANDOM_SLEEP="maybe" renew', { args: ['renew'], env: { ACMECTL_RANDOM_SLEEP: 'maybe' }, message: /environment variable ACMECTL_RANDOM_SLEEP: expected true or false, got "maybe"/ }],
  ['ACMECTL_HTTP_PORT="0" issue x.example.com', { args: ['issue', 'x.example.com'], env: { ACMECTL_HTTP_PORT: '0' }, message: /environment variable ACMECTL_HTTP_PORT: expected a whole number from 1 to 65535, got 0/ }],
  ['ACMECTL_HOOK_TIMEOUT="abc" issue x.example.com', { args: ['issue', 'x.example.com'], env: { ACMECTL_HOOK_TIMEOUT: 'abc' }, message: /environment variable ACMECTL_HOOK_TIMEOUT: expected a whole number from 1 to 3600, got "abc"/ }],
  ['ACMECTL_ORDER_TIMEOUT="0" issue x.example.com', { args: ['issue', 'x.example.com'], env: { ACMECTL_ORDER_TIMEOUT: '0' }, message: /environment variable ACMECTL_ORDER_TIMEOUT: expected a whole number from 1 to 3600, got 0/ }],
  ['ACMECTL_HTTP_ADDRESS="localhost" issue x.example.com', { args: ['issue', 'x.example.com'], env: { ACMECTL_HTTP_ADDRESS: 'localhost' }, message: /--http-address "localhost" is not an IP address/ }],
  ['ACMECTL_PREFERRED_CHAIN="ISRG\\u0007Root" issue x.example.com', { args: ['issue', 'x.example.com'], env: { ACMECTL_PREFERRED_CHAIN: 'ISRG\u0007Root' }, message: /--preferred-chain contains a control character/ }],
  ['ACMECTL_PROFILE="a b" issue x.example.com', { args: ['issue', 'x.example.com'], env: { ACMECTL_PROFILE: 'a b' }, message: /--profile "a b" is not a profile name/ }],
  ['ACMECTL_EAB_KID="kid-1" issue x.example.com', { args: ['issue', 'x.example.com'], env: { ACMECTL_EAB_KID: 'kid-1' }, message: /--eab-kid needs --eab-hmac-key as well/ }],
  ['ACMECTL_REQUEST_TIMEOUT="-1" issue x.example.com', { args: ['issue', 'x.example.com'], env: { ACMECTL_REQUEST_TIMEOUT: '-1' }, message: /environment variable ACMECTL_REQUEST_TIMEOUT: expected a whole number from 1 to 600, got -1/ }],
  ['ACMECTL_STORE="redis://[bad" list', { args: ['list'], env: { ACMECTL_STORE: 'redis://[bad' }, message: /the redis store URL is not a valid URL/ }],
  ['ACMECTL_SERVER="ftp://x" issue x.example.com', { args: ['issue', 'x.example.com'], env: { ACMECTL_SERVER: 'ftp://x' }, serverFlag: false, message: /--server ftp:\/\/x: an ACME directory URL must start with https:\/\// }],
  ['ACMECTL_SERVER="nope" issue x.example.com', { args: ['issue', 'x.example.com'], env: { ACMECTL_SERVER: 'nope' }, serverFlag: false, message: /--server "nope" is neither a known CA nor a URL/ }],
  ['ACMECTL_EMAIL="a@" issue x.example.com --agree-tos', { args: ['issue', 'x.example.com', '--agree-tos'], env: { ACMECTL_EMAIL: 'a@' }, message: /--email "a@" is not an email address/ }],
  ['ACMECTL_OUT="/dev/null/x" issue x.example.com --agree-tos', { args: ['issue', 'x.example.com', '--agree-tos'], env: { ACMECTL_OUT: '/dev/null/x' }, message: /ACMECTL_OUT \/dev\/null\/x cannot be used: cannot create the directory \/dev\/null\/x: \/dev\/null is not a directory/ }],
  ['ACMECTL_OUT="/proc" issue x.example.com --agree-tos', { args: ['issue', 'x.example.com', '--agree-tos'], env: { ACMECTL_OUT: '/proc' }, message: /ACMECTL_OUT \/proc cannot be used: no file can be created in it / }],
];

/** Stack frames or the names of JavaScript's own errors: what a user must never see for wrong input. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const STACK = /^\s+at .+[:)]\d*|\b(?:TypeError|RangeError|ReferenceError|SyntaxError)\b|node:internal/m;

const scratch = tempDir('malformed');
let template: string;

beforeAll(async () => {
  // A store that already holds an account, a certificate and a lock fence (a lock taken and released once).
  template = join(scratch, 'template.db');
  const store = await openStore(`sqlite:${template}`);
  await store.put(accountKey(CA, 'ops@example.com'), Buffer.from(JSON.stringify({ schema: 1, directoryUrl: CA, email: 'ops@example.com', url: `${CA}/acct/1`, keyPem: 'KEY', eabKid: null, createdAt: '2026-01-01T00:00:00.000Z' })));
  await store.put(certificateKey(KEPT), encodeRecord(keptRecord()));
  await (await store.lock(certificateKey(KEPT), { ttlMs: 10_000, waitMs: 0 }))!.release();
  await store.close();
});

function keptRecord(): CertificateRecord {
  const version = { version: 1, serial: '01', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2099-01-01T00:00:00.000Z', issuer: 'Test CA', issuedAt: '2026-01-01T00:00:00.000Z', certPem: 'PEM', chainPem: '', keyPem: 'KEY', fence: '1' };
  return {
    schema: 1,
    name: KEPT,
    identifiers: [{ type: 'dns', value: KEPT }],
    settings: renewalSettings({ server: CA, email: 'ops@example.com' }),
    current: version,
    history: [],
    createdAt: version.issuedAt,
    updatedAt: version.issuedAt,
  };
}

/** A directory to run in: <dir>/data is the data directory (with the store when `populated`), <dir> holds the row's files. */
function workplace(row: Row, populated: boolean): { dir: string; data: string } {
  const dir = mkdtempSync(join(scratch, 'row-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  if (populated) copyFileSync(template, join(data, 'acmectl.db'));
  for (const [name, content] of Object.entries(row.files ?? {})) writeFileSync(join(dir, name), content);
  return { dir, data };
}

/** Everything under the workplace, with the store's every row; SQLite's -wal/-shm files come and go with readers. */
function state(dir: string, data: string): unknown {
  const files = Object.fromEntries(Object.entries(treeSnapshot(dir)).filter(([path]) => !/acmectl\.db-(wal|shm)$/.test(path)));
  return { files, store: sqliteDump(join(data, 'acmectl.db')) };
}

async function run(row: Row, options: { json: boolean; populated: boolean }) {
  const { dir, data } = workplace(row, options.populated);
  const before = state(dir, data);
  // HOME is the workplace too: the config search ends there, and no config file of the machine's is found.
  const result = await runCli([...(options.json ? ['--json'] : []), ...(row.serverFlag === false ? [] : NOWHERE), ...row.args], { home: dir, cwd: dir, env: { ACMECTL_HOME: data, ...row.env } });
  return { result, before, after: state(dir, data) };
}

/** One row's run: exit 2, its message on stderr, no stack trace, nothing written. */
function expectRefused(outcome: Awaited<ReturnType<typeof run>>, row: Row): void {
  const said = `stdout: ${outcome.result.stdout}\nstderr: ${outcome.result.stderr}`;
  expect(outcome.result.code, said).toBe(2);
  expect(outcome.result.stderr, said).toMatch(row.message);
  expect(outcome.result.stderr, said).not.toMatch(STACK);
  expect(outcome.result.stderr, 'control characters typed by the user are shown escaped').not.toMatch(RAW_CONTROL);
  expect(outcome.after, 'the store and the files are as they were').toEqual(outcome.before);
}

describe.concurrent('malformed input exits 2 before anything is sent or written', () => {
  it('has a corpus of at least 300 rows, each named once', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(300);
    expect(new Set(ROWS.map(([what]) => what)).size).toBe(ROWS.length);
  });

  // Every row with --json against the populated store: in JSON mode the message goes to stderr as well.
  it.each(ROWS)('%s', async (_what, row) => {
    const outcome = await run(row, { json: true, populated: true });
    expectRefused(outcome, row);
    const document = JSON.parse(outcome.result.stdout) as { ok: boolean; error: { message: string; exitCode: number } };
    expect(document, outcome.result.stdout).toMatchObject({ ok: false, error: { exitCode: 2 } });
    expect(document.error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  // Every fifth row also as a person types it, where no store exists yet: none is created.
  it.each(ROWS.filter((_row, index) => index % 5 === 0 && !_row[1].needsStore))('%s (plain, no store yet)', async (_what, row) => {
    const outcome = await run(row, { json: false, populated: false });
    expectRefused(outcome, row);
    expect(outcome.result.stdout).toBe('');
  });
});
