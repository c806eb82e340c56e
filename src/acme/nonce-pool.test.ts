import { describe, expect, it } from 'vitest';
import { NoncePool, noncePoolFor } from './nonce-pool.js';

describe('NoncePool', () => {
  it('hands out the nonces of answers, each once, and asks the CA only when none is left', async () => {
    const pool = new NoncePool();
    let fetched = 0;
    const fetch = async (): Promise<string> => `fetched${++fetched}`;
    pool.keep('first');
    pool.keep('second');
    const taken = [await pool.take(fetch), await pool.take(fetch), await pool.take(fetch)];
    expect(new Set(taken)).toEqual(new Set(['first', 'second', 'fetched1']));
    expect(fetched).toBe(1);
    expect(pool.size).toBe(0);
  });

  it('keeps nothing that is not a base64url nonce', async () => {
    const pool = new NoncePool();
    for (const header of [undefined, '', 'a b', 'x"}', ['list'], 'ok-nonce_1']) pool.keep(header);
    expect(pool.size).toBe(1);
    expect(await pool.take(async () => 'fetched')).toBe('ok-nonce_1');
  });

  it('keeps a bounded number, dropping the oldest', async () => {
    const pool = new NoncePool();
    for (let i = 0; i < 100; i++) pool.keep(`n${i}`);
    expect(pool.size).toBe(32);
    const taken: string[] = [];
    while (pool.size > 0) taken.push(await pool.take(async () => 'fetched'));
    expect(taken).not.toContain('n67');
    expect(taken).toContain('n68');
    expect(taken).toContain('n99');
  });

  it('is one pool per CA (per newNonce URL)', () => {
    expect(noncePoolFor('https://a.test/nonce')).toBe(noncePoolFor('https://a.test/nonce'));
    expect(noncePoolFor('https://a.test/nonce')).not.toBe(noncePoolFor('https://b.test/nonce'));
  });
});
