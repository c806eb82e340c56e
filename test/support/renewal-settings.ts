import type { RenewalSettings } from '../../src/core/certificate-record.js';

/**
 * Renewal settings for tests: a standalone certificate on port 80 with every option at its default, changed by
 * `overrides`. One place to add a setting to, instead of a literal in every test.
 */
export function renewalSettings(overrides: Partial<RenewalSettings> & Pick<RenewalSettings, 'server'>): RenewalSettings {
  return {
    challenge: 'standalone',
    httpPort: 80,
    httpAddress: null,
    webroot: null,
    out: null,
    keyType: 'ec256',
    email: null,
    hooks: { pre: null, post: null, deploy: null, failure: null },
    formats: ['pem'],
    pkcs12PasswordFile: null,
    caBundlePem: null,
    profile: null,
    preferredChain: null,
    keyGroup: null,
    keyMode: null,
    ...overrides,
  };
}
