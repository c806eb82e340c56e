/** The closed sets of values a certificate's settings take; the settings table (config/settings.ts) offers them. */

export const KEY_TYPES = ['ec256', 'ec384', 'rsa2048', 'rsa3072', 'rsa4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const CHALLENGE_METHODS = ['standalone', 'webroot', 'store'] as const;
export type ChallengeMethod = (typeof CHALLENGE_METHODS)[number];
