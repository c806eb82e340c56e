import { describe, expect, it } from 'vitest';
import { UsageError } from '../domain/errors.js';
import { MAX_SEGMENT_BYTES, storeKey, storePrefix } from './keys.js';

describe('storeKey', () => {
  const accepted: Array<[string[], string]> = [
    [['certs', 'example.com'], 'certs/example.com'],
    [['accounts', '3f2a9c', 'ops@example.com'], 'accounts/3f2a9c/ops@example.com'],
    [['certs', '*.example.com'], 'certs/*.example.com'],
    [['x', 'a?b', '[c]', 'd:e', 'f+g', 'h_i-j', '.hidden', '...', 'a..b'], 'x/a?b/[c]/d:e/f+g/h_i-j/.hidden/.../a..b'],
    [['challenges', 'xn--bcher-kva.example', 'tok_EN-123'], 'challenges/xn--bcher-kva.example/tok_EN-123'],
    [['bücher', '日本'], 'bücher/日本'],
    [['single'], 'single'],
    [['a'.repeat(MAX_SEGMENT_BYTES)], 'a'.repeat(MAX_SEGMENT_BYTES)],
  ];
  it.each(accepted)('joins %j', (segments, key) => {
    expect(storeKey(...segments)).toBe(key);
  });

  const rejected: Array<[string, string[]]> = [
    ['no segments', []],
    ['an empty segment', ['certs', '']],
    ['a leading empty segment', ['', 'etc']],
    ['"."', ['certs', '.']],
    ['".."', ['certs', '..']],
    ['a traversal as one segment', ['certs', 'a/../../../foo']],
    ['a traversal split into segments', ['a', '..', '..', '..', 'foo']],
    ['a traversal at the start', ['..', 'etc', 'passwd']],
    ['an absolute path as a segment', ['/etc/passwd']],
    ['a slash', ['certs', 'a/b']],
    ['a trailing slash', ['certs/']],
    ['a backslash', ['certs', 'a\\b']],
    ['a backslash traversal', ['certs', '..\\..\\foo']],
    ['NUL', ['certs', 'a\u0000b']],
    ['a newline', ['certs', 'a\nb']],
    ['a carriage return', ['certs', 'a\rb']],
    ['a tab', ['certs', 'a\tb']],
    ['an escape character', ['certs', '\u001b[31mred']],
    ['U+001F', ['certs', 'a\u001f']],
    ['DEL', ['certs', 'a\u007f']],
    ['256 ASCII bytes', ['a'.repeat(MAX_SEGMENT_BYTES + 1)]],
    ['256 UTF-8 bytes in 128 characters', ['é'.repeat(128)]],
  ];
  it.each(rejected)('rejects %s with a UsageError', (_label, segments) => {
    expect(() => storeKey(...segments)).toThrow(UsageError);
    try {
      storeKey(...segments);
    } catch (error) {
      expect((error as UsageError).exitCode).toBe(2);
    }
  });

  it('counts the length limit in UTF-8 bytes, not characters', () => {
    expect(storeKey('é'.repeat(127) + 'a')).toHaveLength(128); // 255 bytes: fine
    expect(() => storeKey('é'.repeat(127) + 'ab')).toThrow(/at most 255 bytes/); // 256 bytes
  });

  it('does not echo control characters raw in its message', () => {
    expect(() => storeKey('a\u001b[2Jb')).toThrow(/"a\\u001b\[2Jb"/);
  });
});

describe('storePrefix', () => {
  it('ends with a slash, so a prefix never matches a sibling that merely starts the same', () => {
    expect(storePrefix('certs')).toBe('certs/');
    expect(storePrefix('accounts', 'abc')).toBe('accounts/abc/');
    expect('certs-old/x'.startsWith(storePrefix('certs'))).toBe(false);
  });

  it.each([[[]], [['..']], [['certs', 'a/../b']], [['']], [['a\u0000']]])('rejects %j like storeKey', (segments) => {
    expect(() => storePrefix(...segments)).toThrow(UsageError);
  });
});
