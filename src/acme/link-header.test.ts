import { describe, expect, it } from 'vitest';
import { linkUrls, parseLinkHeader } from './link-header.js';

const CERT = 'https://ca.test/acme/cert/abc';

describe('parseLinkHeader', () => {
  it('reads comma-separated values, parameters in any case, quoted and bare, and rel lists', () => {
    expect(parseLinkHeader('<https://ca.test/dir>;rel="index", <https://ca.test/cert/abc/1> ; REL = "Alternate  up" ; title="a, b; c", </x>;rel=alternate')).toEqual([
      { target: 'https://ca.test/dir', rels: ['index'] },
      { target: 'https://ca.test/cert/abc/1', rels: ['alternate', 'up'] },
      { target: '/x', rels: ['alternate'] },
    ]);
  });

  it('takes several headers (an array) as one list', () => {
    expect(parseLinkHeader(['<https://a.test/1>;rel="alternate"', '<https://a.test/2>;rel="alternate"']).map((l) => l.target)).toEqual(['https://a.test/1', 'https://a.test/2']);
  });

  it('counts only the first rel parameter (RFC 8288 §3.3) and keeps a link without rel', () => {
    expect(parseLinkHeader('<https://a.test/1>; rel="up"; rel="alternate", <https://a.test/2>')).toEqual([
      { target: 'https://a.test/1', rels: ['up'] },
      { target: 'https://a.test/2', rels: [] },
    ]);
  });

  it('keeps commas and semicolons inside <...> and unescapes quoted strings', () => {
    expect(parseLinkHeader('<https://a.test/x,y;z>; rel="alternate"; title="say \\"hi\\", twice"')).toEqual([{ target: 'https://a.test/x,y;z', rels: ['alternate'] }]);
  });

  it('skips malformed values and goes on with the next one', () => {
    expect(parseLinkHeader('garbage, <https://a.test/1> junk; rel=alternate, <https://a.test/3>;rel=alternate')).toEqual([{ target: 'https://a.test/3', rels: ['alternate'] }]);
    // A quote that never closes takes the rest of the header with it: nothing after it can be told apart.
    expect(parseLinkHeader('<https://a.test/1>;rel=alternate, <https://a.test/2>;rel="alternate, <https://a.test/3>;rel=alternate')).toEqual([{ target: 'https://a.test/1', rels: ['alternate'] }]);
    expect(parseLinkHeader('<https://a.test/unclosed;rel=alternate')).toEqual([]);
    expect(parseLinkHeader('')).toEqual([]);
    expect(parseLinkHeader(undefined)).toEqual([]);
    expect(parseLinkHeader(' , ,<https://a.test/1>;rel=alternate,')).toEqual([{ target: 'https://a.test/1', rels: ['alternate'] }]);
  });
});

describe('linkUrls', () => {
  it('resolves relative targets against the request URL, in order, without duplicates or the request itself', () => {
    const header = ['</acme/cert/abc/1>;rel="alternate"', '<2>;rel="alternate", <https://ca.test/acme/cert/abc/1>;rel="alternate"', `<${CERT}>;rel="alternate"`, '<https://ca.test/directory>;rel="index"'];
    expect(linkUrls(header, 'alternate', CERT)).toEqual(['https://ca.test/acme/cert/abc/1', 'https://ca.test/acme/cert/2']);
  });

  it('matches the relation type in any case and ignores targets that are not http(s) URLs', () => {
    expect(linkUrls('<mailto:x@y.test>;rel=alternate, <https://[bad>;rel=alternate, <http://ca.test/c/1>;rel="ALTERNATE"', 'alternate', CERT)).toEqual(['http://ca.test/c/1']);
  });

  it('finds nothing without a header', () => {
    expect(linkUrls(undefined, 'alternate', CERT)).toEqual([]);
  });
});
