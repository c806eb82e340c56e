/**
 * certbot's renewal/NAME.conf, written by Python's configobj: `key = value` lines, `[section]` and
 * `[[subsection]]` headers, `#` comments. A value is a string, or a list when written with commas
 * (`webroot_path = /var/www/html,`). configobj quotes a value that holds a comma, a `#` or outer blanks with
 * '...' or "..." (no escapes), and one that holds both quote characters with '''...''' or """...""".
 */

export type ConfValue = string | string[];

export interface ConfSection {
  values: Record<string, ConfValue>;
  sections: Record<string, ConfSection>;
}

/** Parses the text; an unreadable line is skipped (certbot's own reader would refuse the file, we only read it). */
export function parseRenewalConf(text: string): ConfSection {
  const root: ConfSection = { values: {}, sections: {} };
  // The open sections, outermost first: path[depth - 1] is the section a `[`×depth header opens into.
  const path: ConfSection[] = [root];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^(\[+)\s*(.*?)\s*(\]+)\s*(?:#.*)?$/.exec(line);
    if (header) {
      const depth = header[1]!.length;
      if (depth !== header[3]!.length || depth > path.length) continue;
      const section: ConfSection = { values: {}, sections: {} };
      path[depth - 1]!.sections[unquote(header[2]!)] = section;
      path.length = depth;
      path.push(section);
      continue;
    }
    const assignment = /^("[^"]*"|'[^']*'|[^=]+?)\s*=\s*(.*)$/.exec(line);
    if (!assignment) continue;
    let raw = assignment[2]!;
    const triple = raw.slice(0, 3);
    if ((triple === "'''" || triple === '"""') && raw.indexOf(triple, 3) < 0) {
      // A triple-quoted value may go on over the next lines.
      while (index + 1 < lines.length && !raw.includes(triple, 3)) raw += `\n${lines[++index]!}`;
    }
    path[path.length - 1]!.values[unquote(assignment[1]!)] = parseValue(raw);
  }
  return root;
}

function unquote(text: string): string {
  return /^(["']).*\1$/s.test(text) ? text.slice(1, -1) : text;
}

function parseValue(raw: string): ConfValue {
  const triple = raw.slice(0, 3);
  if (triple === "'''" || triple === '"""') {
    const end = raw.indexOf(triple, 3);
    return end < 0 ? raw.slice(3) : raw.slice(3, end);
  }
  const items: string[] = [];
  let rest = raw;
  let sawComma = false;
  while (rest !== '') {
    let item: string;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      const end = rest.indexOf(quote, 1);
      item = end < 0 ? rest.slice(1) : rest.slice(1, end);
      rest = end < 0 ? '' : rest.slice(end + 1).trimStart();
    } else {
      const stop = rest.search(/,|\s#/);
      item = (stop < 0 ? rest : rest.slice(0, stop)).trim();
      rest = stop < 0 ? '' : rest.slice(stop).trimStart();
    }
    items.push(item);
    if (!rest.startsWith(',')) break; // the end, or an inline comment
    sawComma = true;
    rest = rest.slice(1).trimStart();
    if (rest.startsWith('#')) break;
  }
  if (!sawComma) return items[0] ?? '';
  // "a," is a one-item list; "a, b" two.
  return items.filter((item, position) => item !== '' || position < items.length - 1);
}

/** A value read as one string: a one-item list is that item; absent, empty or a longer list is null. */
export function confString(values: Record<string, ConfValue>, key: string): string | null {
  const value = values[key];
  const text = Array.isArray(value) ? (value.length === 1 ? value[0]! : null) : (value ?? null);
  return text === null || text === '' || text === 'None' ? null : text;
}

/** A value read as a list (a single string is a one-item list). */
export function confList(values: Record<string, ConfValue>, key: string): string[] {
  const value = values[key];
  if (value === undefined || value === '') return [];
  return (Array.isArray(value) ? value : [value]).filter((item) => item !== '');
}

/** configobj writes Python booleans: True/False (certbot also reads yes/no, on/off, 1/0). */
export function confBoolean(values: Record<string, ConfValue>, key: string): boolean | null {
  const text = confString(values, key)?.toLowerCase();
  if (text === undefined) return null;
  if (['true', 'yes', 'on', '1'].includes(text)) return true;
  if (['false', 'no', 'off', '0'].includes(text)) return false;
  return null;
}
