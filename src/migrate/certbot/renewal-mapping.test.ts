import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseRenewalConf } from './renewal-conf.js';
import { CERTBOT_DEFAULT_SERVER, keyTypeOfPem, mapRenewalConf } from './renewal-mapping.js';
import type { RenewalMapping } from './renewal-mapping.js';

const ecKey = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const rsaKey = (modulusLength: number) => generateKeyPairSync('rsa', { modulusLength }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const P256 = ecKey('prime256v1');

const map = (params: string, options: { top?: string; domains?: string[]; key?: string } = {}): RenewalMapping =>
  mapRenewalConf(parseRenewalConf(`${options.top ?? ''}\n[renewalparams]\naccount = abc123\n${params}`), options.domains ?? ['a.example', 'b.example'], options.key ?? P256);
const reason = (mapping: RenewalMapping) => (mapping.ok ? null : mapping.reason);

describe('mapRenewalConf', () => {
  it('maps a standalone lineage: port, address, key type, server, hooks (renew_hook is the deploy hook), preferred chain', () => {
    const mapping = map(
      [
        'http01_port = 8080',
        'http01_address = 127.0.0.1',
        'key_type = ecdsa',
        'elliptic_curve = secp384r1',
        'preferred_chain = ISRG Root X1',
        'pre_hook = systemctl stop nginx',
        'post_hook = systemctl start nginx',
        'renew_hook = systemctl reload haproxy',
        'server = https://acme.example/dir',
        'authenticator = standalone',
      ].join('\n'),
    );
    expect(mapping).toEqual({
      ok: true,
      accountId: 'abc123',
      settings: {
        server: 'https://acme.example/dir',
        challenge: 'standalone',
        httpPort: 8080,
        httpAddress: '127.0.0.1',
        webroot: null,
        keyType: 'ec384',
        hooks: { pre: 'systemctl stop nginx', post: 'systemctl start nginx', deploy: 'systemctl reload haproxy', failure: null },
        preferredChain: 'ISRG Root X1',
      },
      notes: [],
    });
  });

  it("uses certbot's defaults: port 80, every address, Let's Encrypt (also for its retired ACMEv1 directory, as certbot does)", () => {
    expect(map('authenticator = standalone')).toMatchObject({ ok: true, settings: { httpPort: 80, httpAddress: null, server: CERTBOT_DEFAULT_SERVER } });
    expect(map('authenticator = standalone\nserver = https://acme-v01.api.letsencrypt.org/directory')).toMatchObject({ ok: true, settings: { server: CERTBOT_DEFAULT_SERVER } });
  });

  it('maps a webroot lineage whose names share one webroot, from the map or from webroot_path', () => {
    const mapped = map('authenticator = webroot\nwebroot_path = /srv/a,\n[[webroot_map]]\na.example = /var/www\nb.example = /var/www');
    expect(mapped).toMatchObject({ ok: true, settings: { challenge: 'webroot', webroot: '/var/www' } });
    expect(map('authenticator = webroot\nwebroot_path = /srv/a,')).toMatchObject({ ok: true, settings: { webroot: '/srv/a' } });
  });

  it('leaves alone a lineage whose names are served from several webroots, or that has none', () => {
    expect(reason(map('authenticator = webroot\nwebroot_path = /srv/a,\n[[webroot_map]]\na.example = /srv/a\nb.example = /srv/b'))).toBe(
      'its names are served from 2 webroots (/srv/a, /srv/b); acmectl keeps one webroot per certificate: issue it again per webroot',
    );
    // b.example is not in the map: it uses webroot_path, which differs.
    expect(reason(map('authenticator = webroot\nwebroot_path = /srv/b,\n[[webroot_map]]\na.example = /srv/a'))).toMatch(/served from 2 webroots/);
    expect(reason(map('authenticator = webroot'))).toBe('authenticator webroot without a webroot path');
  });

  it('leaves alone DNS plugins, manual, the nginx and apache plugins and unknown authenticators, saying why', () => {
    expect(reason(map('authenticator = dns-cloudflare'))).toBe('authenticator dns-cloudflare answers DNS-01 challenges; acmectl answers HTTP-01 only (standalone or webroot)');
    expect(reason(map('authenticator = manual'))).toMatch(/^authenticator manual: .* acmectl answers HTTP-01 itself/);
    expect(reason(map('authenticator = nginx'))).toMatch(/^authenticator nginx: .*acmectl issue --webroot DIR/);
    expect(reason(map('authenticator = something'))).toMatch(/^authenticator something is not one acmectl can take over/);
    expect(reason(map('server = https://x/dir'))).toBe('its renewal configuration names no authenticator');
  });

  it("maps certbot's key types, refusing those acmectl does not make", () => {
    const keyOf = (params: string, key?: string) => {
      const mapping = map(`authenticator = standalone\n${params}`, key ? { key } : {});
      return mapping.ok ? mapping.settings.keyType : mapping.reason;
    };
    expect(keyOf('key_type = ecdsa')).toBe('ec256');
    expect(keyOf('key_type = ecdsa\nelliptic_curve = secp521r1')).toBe('its key type ecdsa secp521r1 is not one acmectl makes (ec256, ec384, rsa2048, rsa3072, rsa4096)');
    expect(keyOf('key_type = rsa')).toBe('rsa2048');
    expect(keyOf('key_type = rsa\nrsa_key_size = 4096')).toBe('rsa4096');
    expect(keyOf('key_type = rsa\nrsa_key_size = 1024')).toMatch(/^its key type rsa 1024 is not one/);
    // No key_type (certbot before 2.0): the lineage keeps the type of its key.
    expect(keyOf('rsa_key_size = 2048', rsaKey(3072))).toBe('rsa3072');
    expect(keyOf('', ecKey('secp384r1'))).toBe('ec384');
  });

  it('says what does not carry over', () => {
    const mapping = map('authenticator = standalone\nreuse_key = True\nmust_staple = True\nautorenew = False\ninstaller = nginx', { top: 'renew_before_expiry = 20 days' });
    expect(mapping.ok && mapping.notes).toEqual([
      "renew_before_expiry = 20 days is not kept: acmectl renews in the CA's renewal window (ARI), else when a third of the lifetime is left (renew --days N to change it)",
      'reuse_key is not kept: acmectl makes a new key at every renewal',
      'must_staple is not kept: acmectl does not ask for the OCSP must-staple extension',
      'certbot did not renew it automatically (autorenew = False); acmectl renew will',
      "installer nginx: certbot pointed nginx at certbot's files; point it at acmectl's files",
    ]);
  });

  it('refuses a configuration without an account, a server that is no URL, or a port that is no port', () => {
    expect(reason(mapRenewalConf(parseRenewalConf('[renewalparams]\nauthenticator = standalone'), ['a.example'], P256))).toBe('its renewal configuration names no account');
    expect(reason(map('authenticator = standalone\nserver = letsencrypt'))).toBe('its server "letsencrypt" is not an https directory URL');
    expect(reason(map('authenticator = standalone\nserver = http://ca.internal/dir'))).toBe('its server "http://ca.internal/dir" is not an https directory URL');
    expect(reason(map('authenticator = standalone\nhttp01_port = 99999'))).toBe('its http01_port "99999" is not a port');
    expect(reason(mapRenewalConf(parseRenewalConf('version = 2.1.0'), ['a.example'], P256))).toBe('its renewal configuration has no [renewalparams] section');
  });
});

describe('keyTypeOfPem', () => {
  it('names the acmectl key type of a key, or null', () => {
    expect([keyTypeOfPem(P256), keyTypeOfPem(rsaKey(2048)), keyTypeOfPem(ecKey('secp521r1')), keyTypeOfPem('not a key')]).toEqual(['ec256', 'rsa2048', null, null]);
  });
});
