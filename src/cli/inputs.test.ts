import { describe, expect, it } from 'vitest';
import { UsageError } from '../domain/errors.js';
import { checkEmail, checkListenAddresses, checkPathText } from './inputs.js';

describe('checkListenAddresses (--http-address)', () => {
  it.each([
    ['127.0.0.1', ['127.0.0.1']],
    ['127.0.0.1, ::1', ['127.0.0.1', '::1']],
    ['[::1]', ['::1']],
    ['[2001:db8::1],192.0.2.1', ['2001:db8::1', '192.0.2.1']],
  ])('%j', (value, expected) => {
    expect(checkListenAddresses(value)).toEqual(expected);
  });
  it('means every address when not given', () => expect(checkListenAddresses(null)).toEqual([]));
  it.each([
    [',', /holds an empty address/],
    ['127.0.0.1,', /holds an empty address/],
    [',::1', /holds an empty address/],
    ['', /holds an empty address/],
    ['[::1', /"\[::1" is not an IP address/],
    ['::1]', /"::1\]" is not an IP address/],
    ['[127.0.0.1]', /"\[127\.0\.0\.1\]" is not an IP address/],
    ['localhost', /"localhost" is not an IP address/],
    ['127.0.0.1,127.0.0.1', /names 127\.0\.0\.1 twice/],
    ['1.2.3.4\u001b[2J', /"1\.2\.3\.4\\u\{001b\}\[2J" is not an IP address/],
  ])('refuses %j', (value, message) => {
    expect(() => checkListenAddresses(value)).toThrow(UsageError);
    expect(() => checkListenAddresses(value)).toThrow(message);
  });
});

describe('checkPathText', () => {
  it('refuses an empty path, which would mean the current directory', () => {
    expect(() => checkPathText('', '--out')).toThrow(/--out was given an empty path/);
  });
  it('refuses a control character, shown escaped', () => {
    expect(() => checkPathText('/tmp/a\u001b[2Jb', '--out')).toThrow(/--out "\/tmp\/a\\u\{001b\}\[2Jb" contains a control character/);
  });
  it('passes any other path as it is', () => expect(checkPathText('/etc/ssl/my certs', '--out')).toBe('/etc/ssl/my certs'));
});

describe('checkEmail', () => {
  it('shows control characters escaped', () => {
    expect(() => checkEmail('a\u0007@example.com')).toThrow(/"a\\u\{0007\}@example\.com" is not an email address/);
  });
});
