/** RFC 8555 §6.7: the namespace of ACME's own problem types. */
export const ACME_ERROR_PREFIX = 'urn:ietf:params:acme:error:';

/** Short type name ("rateLimited") of an ACME error type URN, or the whole type when it is not ACME's. */
export function shortProblemType(type: string): string {
  return type.startsWith(ACME_ERROR_PREFIX) ? type.slice(ACME_ERROR_PREFIX.length) : type;
}
