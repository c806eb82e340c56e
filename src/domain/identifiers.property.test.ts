// Property-based tests of the name parser (fast-check): whatever is typed, the parser either returns exactly
// what will be ordered or refuses with a UsageError (exit 2), never another error and never a rewritten name.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { parseIdentifier } from './identifiers.js';

function outcome(input: string): { ok: true; value: string; type: string } | { ok: false; error: unknown } {
  try {
    const identifier = parseIdentifier(input);
    return { ok: true, value: identifier.value, type: identifier.type };
  } catch (error) {
    return { ok: false, error };
  }
}

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/).filter((l) => !/^[0-9]+$/.test(l) && l.slice(2, 4) !== '--');
const validName = fc.array(label, { minLength: 2, maxLength: 4 }).map((labels) => labels.join('.'));
/** Strings that look like names, with any Unicode sprinkled in: more of them get past the first checks. */
const nameLike = fc
  .array(fc.oneof(label, fc.string({ unit: 'binary', maxLength: 4 }), fc.constantFrom('.', '-', '%', '\\', '[', ']', ':', 'xn--')), { maxLength: 8 })
  .map((parts) => parts.join(''));
/** Addresses, some bracketed, some with a zone (`fe80::1%eth0`). */
const addressLike = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV6().map((address) => `[${address}]`),
  fc.tuple(fc.ipV6(), fc.string({ maxLength: 6 })).map(([address, zone]) => `${address}%${zone}`),
);
const anyText = fc.oneof(nameLike, addressLike, fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }));

// Printable ASCII that cannot be in a DNS name or an IP address (a ':' would make some inputs addresses).
const FORBIDDEN_ASCII = [...'!"#$%&\'()+,;<=>?[\\]^_`{|}~ /@'];
// Characters IDNA drops or maps silently: soft hyphen, zero-width space/joiners, word joiner, BOM, full-width A.
const SILENTLY_CHANGED = ['\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\uff41', '\u3002', 'ﬁ'];

describe('parseIdentifier (properties)', () => {
  it('never fails with anything but a UsageError (exit 2)', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        const result = outcome(input);
        if (!result.ok) {
          expect(result.error).toBeInstanceOf(UsageError);
          expect((result.error as UsageError).exitCode).toBe(2);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('returns names of letters, digits, hyphens and dots only, which parse again unchanged', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        const result = outcome(input);
        if (!result.ok) return;
        if (result.type === 'dns') expect(result.value).toMatch(/^[a-z0-9.-]+$/);
        else expect(result.value).toMatch(/^[0-9a-f.:]+$/);
        expect(parseIdentifier(result.value)).toEqual({ type: result.type, value: result.value });
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts a plain name as it was typed, up to letter case', () => {
    fc.assert(
      fc.property(validName, fc.boolean(), (name, upper) => {
        expect(parseIdentifier(upper ? name.toUpperCase() : name)).toEqual({ type: 'dns', value: name });
      }),
    );
  });

  it('refuses a name with any character outside the allowed set, wherever it is', () => {
    fc.assert(
      fc.property(validName, fc.constantFrom(...FORBIDDEN_ASCII, ...SILENTLY_CHANGED), fc.nat(), (name, character, at) => {
        const position = at % (name.length + 1);
        const result = outcome(name.slice(0, position) + character + name.slice(position));
        expect(result.ok).toBe(false);
        expect((result as { error: unknown }).error).toBeInstanceOf(UsageError);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses any control character, and never echoes it raw', () => {
    fc.assert(
      fc.property(validName, fc.integer({ min: 0, max: 0x9f }).filter((c) => c < 0x20 || c >= 0x7f), fc.nat(), (name, code, at) => {
        const position = at % (name.length + 1);
        const result = outcome(name.slice(0, position) + String.fromCharCode(code) + name.slice(position));
        expect(result.ok).toBe(false);
        expect((result as { error: Error }).error).toBeInstanceOf(UsageError);
        expect((result as { error: Error }).error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }),
      { numRuns: 1000 },
    );
  });
});
