import { describe, expect, it } from 'vitest';
import { accountFrom, authorizationFrom, checkAuthorizationIdentifier, checkOrderIdentifiers, directoryFrom, InvalidAcmeObjectError, orderFrom, problemFrom } from './acme-objects.js';

const order = {
  status: 'pending',
  identifiers: [{ type: 'dns', value: 'a.example.com' }],
  authorizations: ['https://ca.test/authz/1'],
  finalize: 'https://ca.test/order/1/finalize',
};
const authorization = {
  status: 'pending',
  identifier: { type: 'dns', value: 'A.example.com' },
  challenges: [{ type: 'http-01', url: 'https://ca.test/chall/1', status: 'pending', token: 'abc' }],
};

const refusal = (read: () => unknown): string => {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidAcmeObjectError);
    return (error as Error).message;
  }
  throw new Error('not refused');
};

describe('ACME objects from a CA', () => {
  it('reads well-formed objects, from JSON text too, keeping the members acmectl uses', () => {
    expect(orderFrom(JSON.stringify(order), 'https://ca.test/order/1')).toEqual({ ...order, url: 'https://ca.test/order/1' });
    expect(authorizationFrom(authorization, 'https://ca.test/authz/1').challenges[0]).toEqual(authorization.challenges[0]);
    expect(accountFrom({ status: 'valid', contact: ['mailto:a@example.com'] })).toEqual({ status: 'valid', contact: ['mailto:a@example.com'] });
    expect(accountFrom({}, 'valid')).toEqual({ status: 'valid' });
  });

  it.each<[string, () => unknown, string]>([
    ['an order that is not JSON', () => orderFrom('{"status":', 'u'), 'the CA sent an invalid order: it is not a JSON object'],
    ['an order that is a list', () => orderFrom([], 'u'), 'the CA sent an invalid order: it is not a JSON object'],
    ['an order without authorizations', () => orderFrom({ ...order, authorizations: undefined }, 'u'), 'the CA sent an invalid order: authorizations is not a list of URLs'],
    ['an order with a file: authorization', () => orderFrom({ ...order, authorizations: ['file:///etc/passwd'] }, 'u'), 'the CA sent an invalid order: authorizations is not a list of URLs'],
    ['an order with an unknown status', () => orderFrom({ ...order, status: 'done\u001b[2J' }, 'u'), 'the CA sent an invalid order: status "done\\u{001b}[2J" is not an ACME status'],
    ['an order without identifiers', () => orderFrom({ ...order, identifiers: [] }, 'u'), 'the CA sent an invalid order: identifiers is not a list of identifiers'],
    ['an order whose error is no problem', () => orderFrom({ ...order, error: 'bad' }, 'u'), 'the CA sent an invalid problem document: it is not a JSON object'],
    ['an authorization without challenges', () => authorizationFrom({ ...authorization, challenges: null }, 'u'), 'the CA sent an invalid authorization: challenges is not a list'],
    ['an authorization without identifier', () => authorizationFrom({ ...authorization, identifier: 'a.example.com' }, 'u'), 'the CA sent an invalid authorization: identifier is not an identifier ("a.example.com")'],
    ['a challenge without URL', () => authorizationFrom({ ...authorization, challenges: [{ type: 'http-01', status: 'pending' }] }, 'u'), 'the CA sent an invalid challenge: url is not a URL (undefined)'],
    ['a challenge with a numeric token', () => authorizationFrom({ ...authorization, challenges: [{ ...authorization.challenges[0], token: 7 }] }, 'u'), 'the CA sent an invalid challenge: token is not text'],
    ['an account without status', () => accountFrom({ contact: [] }), 'the CA sent an invalid account: status undefined is not an ACME status'],
    ['an account whose contact is text', () => accountFrom({ status: 'valid', contact: 'mailto:a@example.com' }), 'the CA sent an invalid account: contact is not a list of URLs'],
    ['a problem whose subproblems are text', () => problemFrom({ type: 'urn:ietf:params:acme:error:malformed', subproblems: 'x' }), 'the CA sent an invalid problem document: subproblems is not a list'],
    ['a subproblem without identifier value', () => problemFrom({ type: 't', subproblems: [{ type: 't', identifier: { type: 'dns' } }] }), 'the CA sent an invalid problem document: subproblems[0].identifier is not an identifier ({"type":"dns"})'],
    ['a directory whose newOrder is not a URL', () => directoryFrom({ newNonce: 'https://ca.test/n', newAccount: 'https://ca.test/a', newOrder: 'new-order' }), 'the CA sent an invalid directory: newOrder is not a URL ("new-order")'],
    ['a directory whose meta is a list', () => directoryFrom({ newNonce: 'https://ca.test/n', newAccount: 'https://ca.test/a', newOrder: 'https://ca.test/o', meta: [] }), 'the CA sent an invalid directory: meta is not an object'],
  ])('refuses %s', (_what, read, message) => {
    expect(refusal(read)).toBe(message);
  });

  it('tells a document that is no problem (a proxy page) from an invalid problem document', () => {
    expect(problemFrom('<html>Bad Gateway</html>')).toBeNull();
    expect(problemFrom({ error: 'x' })).toBeNull();
    expect(problemFrom({ type: 'urn:ietf:params:acme:error:malformed', detail: 'bad', instance: 'kept' })).toEqual({ type: 'urn:ietf:params:acme:error:malformed', detail: 'bad', instance: 'kept' });
  });

  it('tells a page that is no directory (a wrong --server URL) from an invalid directory', () => {
    expect(directoryFrom('<html>')).toBeNull();
    expect(directoryFrom({ hello: 'world' })).toBeNull();
  });

  it('wants an order for exactly the identifiers ordered, and authorizations only for those', () => {
    const ordered = [
      { type: 'dns', value: 'a.example.com' },
      { type: 'ip', value: '2001:db8::1' },
    ] as const;
    const read = orderFrom({ ...order, identifiers: [{ type: 'ip', value: '2001:0db8:0:0:0:0:0:1' }, { type: 'dns', value: 'A.Example.com' }] }, 'u');
    expect(() => checkOrderIdentifiers(read, ordered)).not.toThrow();
    expect(refusal(() => checkOrderIdentifiers({ ...read, identifiers: [...read.identifiers, { type: 'dns', value: 'evil.example' }] }, ordered))).toMatch(/^the CA sent an invalid order: its identifiers are not the ones ordered/);
    expect(refusal(() => checkOrderIdentifiers({ ...read, identifiers: read.identifiers.slice(1) }, ordered))).toMatch(/not the ones ordered/);
    expect(() => checkAuthorizationIdentifier(authorizationFrom(authorization, 'u'), ordered)).not.toThrow();
    expect(refusal(() => checkAuthorizationIdentifier(authorizationFrom({ ...authorization, identifier: { type: 'dns', value: 'evil\u202e.example' } }, 'u'), ordered))).toBe(
      'the CA sent an invalid authorization: its identifier evil\\u{202e}.example was not ordered',
    );
  });
});
