import { describe, expect, it } from 'vitest';
import { confBoolean, confList, confString, parseRenewalConf } from './renewal-conf.js';

// What certbot 2.1 wrote for a webroot lineage (paths shortened).
const CERTBOT_WEBROOT = `# renew_before_expiry = 30 days
version = 2.1.0
archive_dir = /etc/letsencrypt/archive/w.example.test
cert = /etc/letsencrypt/live/w.example.test/cert.pem

# Options used in the renewal process
[renewalparams]
account = d287a2223af6121a04fe37163ce5b6a4
rsa_key_size = 3072
key_type = rsa
post_hook = echo post
server = https://acme-v02.api.letsencrypt.org/directory
authenticator = webroot
webroot_path = /var/www/html,
[[webroot_map]]
w.example.test = /var/www/html
www.example.test = /var/www/html
`;

// How Python's configobj 5.0.8 (the one certbot uses) writes values that hold commas, quotes, '#' and blanks.
const CONFIGOBJ_QUOTING = `[renewalparams]
pre_hook = "systemctl stop nginx, apache2"
post_hook = 'echo "a b" # not comment'
deploy_hook = '''echo "it's" done'''
x = a=b
empty = ""
webroot_path = /var/www/html,
two = /a, /b
sp = "  lead"
inline = value # a comment
[[webroot_map]]
a.example = /var/www
`;

describe('parseRenewalConf', () => {
  it('reads the top values, [renewalparams] and its [[webroot_map]], skipping comments', () => {
    const conf = parseRenewalConf(CERTBOT_WEBROOT);
    expect(conf.values).toEqual({ version: '2.1.0', archive_dir: '/etc/letsencrypt/archive/w.example.test', cert: '/etc/letsencrypt/live/w.example.test/cert.pem' });
    const params = conf.sections['renewalparams']!;
    expect(params.values).toMatchObject({ account: 'd287a2223af6121a04fe37163ce5b6a4', key_type: 'rsa', post_hook: 'echo post', authenticator: 'webroot', webroot_path: ['/var/www/html'] });
    expect(params.sections['webroot_map']!.values).toEqual({ 'w.example.test': '/var/www/html', 'www.example.test': '/var/www/html' });
    expect(confString(conf.values, 'renew_before_expiry')).toBeNull();
  });

  it('reads configobj quoting: commas, quotes, "#", outer blanks, lists and inline comments', () => {
    const params = parseRenewalConf(CONFIGOBJ_QUOTING).sections['renewalparams']!;
    expect(params.values).toEqual({
      pre_hook: 'systemctl stop nginx, apache2',
      post_hook: 'echo "a b" # not comment',
      deploy_hook: `echo "it's" done`,
      x: 'a=b',
      empty: '',
      webroot_path: ['/var/www/html'],
      two: ['/a', '/b'],
      sp: '  lead',
      inline: 'value',
    });
    expect(params.sections['webroot_map']!.values).toEqual({ 'a.example': '/var/www' });
  });

  it('reads a triple-quoted value over several lines', () => {
    const conf = parseRenewalConf(`[renewalparams]\ndeploy_hook = '''first\nsecond "x" 'y' z'''\nafter = 1\n`);
    expect(conf.sections['renewalparams']!.values).toEqual({ deploy_hook: `first\nsecond "x" 'y' z`, after: '1' });
  });

  it('reads values as a string, a list or a boolean', () => {
    const values = { one: ['/a'], two: ['/a', '/b'], plain: '/c', none: 'None', yes: 'True', no: 'False', odd: 'maybe' };
    expect([confString(values, 'one'), confString(values, 'two'), confString(values, 'plain'), confString(values, 'none'), confString(values, 'missing')]).toEqual(['/a', null, '/c', null, null]);
    expect([confList(values, 'plain'), confList(values, 'two'), confList(values, 'missing')]).toEqual([['/c'], ['/a', '/b'], []]);
    expect([confBoolean(values, 'yes'), confBoolean(values, 'no'), confBoolean(values, 'odd'), confBoolean(values, 'missing')]).toEqual([true, false, null, null]);
  });
});
