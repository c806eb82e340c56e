import { describe, expect, it } from 'vitest';
import { escapeJsonControls, visibleLines, visibleText } from './visible-text.js';

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

describe('visibleLines', () => {
  it('keeps line feeds and tabs, makes every other control and bidi character visible', () => {
    expect(visibleLines('hook failed\n    out:\there\u001b]52;c;eA==\u0007\u009b2J\u202e')).toBe('hook failed\n    out:\there\\u{001b}]52;c;eA==\\u{0007}\\u{009b}2J\\u{202e}');
  });
});

describe('escapeJsonControls', () => {
  it('escapes what JSON.stringify leaves raw, and the value reads back the same', () => {
    const value = { detail: 'a\u001b]52\u0007\u007f\u009b\u202e\u2028z' };
    const json = escapeJsonControls(JSON.stringify(value));
    expect(json).toBe('{"detail":"a\\u001b]52\\u0007\\u007f\\u009b\\u202e\\u2028z"}');
    expect(JSON.parse(json)).toEqual(value);
  });
});
