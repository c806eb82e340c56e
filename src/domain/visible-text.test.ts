import { describe, expect, it } from 'vitest';
import { visibleText } from './visible-text.js';

describe('visibleText', () => {
  it('makes control and bidi characters visible and keeps the rest', () => {
    expect(visibleText('plain détail, ünïcode')).toBe('plain détail, ünïcode');
    expect(visibleText('a\u001b[2Jb')).toBe('a\\u{001b}[2Jb');
    expect(visibleText('evil\u202egnp.exe\r\n')).toBe('evil\\u{202e}gnp.exe\\u{000d}\\u{000a}');
  });
  it('cuts long text', () => {
    expect(visibleText('x'.repeat(20), 5)).toBe('xxxxx…');
  });
});
