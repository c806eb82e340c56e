/**
 * `Link` headers (RFC 8288), as ACME uses them: rel="alternate" on a certificate download names the other
 * chains the CA offers (RFC 8555 §7.4.2), rel="up" and rel="index" appear elsewhere.
 *
 * A CA may send several Link headers or one header with comma-separated values; Node joins repeated headers
 * with ", ", and a header may also arrive as an array. Parsing is lenient: a malformed value is skipped up to
 * the next comma outside <...> and quotes, never thrown on.
 */

export interface LinkValue {
  /** The target as written between < and >, not yet resolved. */
  target: string;
  /** Relation types, lower-cased (a rel parameter may list several, separated by spaces). */
  rels: string[];
}

export function parseLinkHeader(header: string | readonly string[] | null | undefined): LinkValue[] {
  if (header === null || header === undefined) return [];
  const values = typeof header === 'string' ? [header] : header;
  return values.flatMap((value) => (typeof value === 'string' ? parseOne(value) : []));
}

/**
 * The absolute http(s) URLs of the links with the relation type `rel`, resolved against `requestUrl` (a target
 * may be relative), in the order given, without duplicates and without `requestUrl` itself.
 */
export function linkUrls(header: string | readonly string[] | null | undefined, rel: string, requestUrl: string): string[] {
  const wanted = rel.toLowerCase();
  const seen = new Set<string>([normalize(requestUrl)]);
  const urls: string[] = [];
  for (const link of parseLinkHeader(header)) {
    if (!link.rels.includes(wanted)) continue;
    let url: URL;
    try {
      url = new URL(link.target, requestUrl);
    } catch {
      continue;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
    const text = url.href;
    if (seen.has(normalize(text))) continue;
    seen.add(normalize(text));
    urls.push(text);
  }
  return urls;
}

function normalize(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

const WHITESPACE = new Set([' ', '\t']);

function parseOne(text: string): LinkValue[] {
  const links: LinkValue[] = [];
  let pos = 0;
  const skipWhitespace = (): void => {
    while (pos < text.length && WHITESPACE.has(text[pos]!)) pos++;
  };
  /** Moves past the next comma that is not inside <...> or a quoted string (or to the end). */
  const skipToNextValue = (): void => {
    let inQuotes = false;
    let inBrackets = false;
    for (; pos < text.length; pos++) {
      const c = text[pos]!;
      if (inQuotes) {
        if (c === '\\') pos++;
        else if (c === '"') inQuotes = false;
      } else if (inBrackets) {
        if (c === '>') inBrackets = false;
      } else if (c === '"') inQuotes = true;
      else if (c === '<') inBrackets = true;
      else if (c === ',') {
        pos++;
        return;
      }
    }
  };

  while (pos < text.length) {
    skipWhitespace();
    if (text[pos] === ',') {
      pos++;
      continue;
    }
    if (pos >= text.length) break;
    if (text[pos] !== '<') {
      skipToNextValue();
      continue;
    }
    const close = text.indexOf('>', pos + 1);
    if (close < 0) break;
    const target = text.slice(pos + 1, close).trim();
    pos = close + 1;
    let rels: string[] | undefined;
    let malformed = false;
    for (;;) {
      skipWhitespace();
      if (pos >= text.length || text[pos] === ',') break;
      if (text[pos] !== ';') {
        malformed = true;
        break;
      }
      pos++;
      skipWhitespace();
      const nameStart = pos;
      while (pos < text.length && !/[=;,\s]/.test(text[pos]!)) pos++;
      const name = text.slice(nameStart, pos).toLowerCase();
      skipWhitespace();
      let value = '';
      if (text[pos] === '=') {
        pos++;
        skipWhitespace();
        if (text[pos] === '"') {
          const parsed = quotedString(text, pos);
          if (parsed === null) {
            malformed = true;
            break;
          }
          value = parsed.value;
          pos = parsed.end;
        } else {
          const valueStart = pos;
          while (pos < text.length && !/[;,\s]/.test(text[pos]!)) pos++;
          value = text.slice(valueStart, pos);
        }
      }
      // RFC 8288 §3.3: only the first rel parameter counts.
      if (name === 'rel' && rels === undefined) rels = value.toLowerCase().split(/\s+/).filter((r) => r !== '');
    }
    if (malformed) {
      skipToNextValue();
      continue;
    }
    if (target !== '') links.push({ target, rels: rels ?? [] });
  }
  return links;
}

/** The quoted string starting at `start` (a '"'), unescaped, and the position after its closing quote. */
function quotedString(text: string, start: number): { value: string; end: number } | null {
  let value = '';
  for (let pos = start + 1; pos < text.length; pos++) {
    const c = text[pos]!;
    if (c === '\\' && pos + 1 < text.length) {
      value += text[++pos];
    } else if (c === '"') {
      return { value, end: pos + 1 };
    } else {
      value += c;
    }
  }
  return null;
}
