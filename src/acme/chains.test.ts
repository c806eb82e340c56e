import { describe, expect, it } from 'vitest';
import { intermediate, leaf, root } from '../../test/support/test-pki.js';
import { OperationError } from '../domain/errors.js';
import { chainLinkProblem, chooseChain, downloadChain, MAX_ALTERNATE_CHAINS, parseChain, topIssuerName } from './chains.js';
import type { AlternateChain } from './chains.js';
import type { DownloadedCertificate } from './client.js';

// One issuing intermediate, certified by two roots (a cross-sign), as Let's Encrypt's alternate chains are.
const rootA = root('Root A');
const rootB = root('Root B');
const rootC = root('Root C');
const issuing = intermediate('Issuing CA', rootA);
const issuingByB = intermediate('Issuing CA', rootB, issuing);
const issuingByC = intermediate('Issuing CA', rootC, issuing);
const cert = leaf('www.example.test', issuing);
const chainA = cert + issuing.pem;
const chainB = cert + issuingByB.pem;
const chainC = cert + issuingByC.pem;

/** Alternates that fail the test when read beyond `readable` of them. */
function alternates(list: AlternateChain[], readable = list.length): { items: AsyncIterable<AlternateChain>; read: () => number } {
  let read = 0;
  return {
    read: () => read,
    items: (async function* () {
      for (const item of list) {
        if (read >= readable) throw new Error('read one alternate too many');
        read++;
        yield item;
      }
    })(),
  };
}

describe('chain checks', () => {
  it('names the issuer of the topmost certificate', () => {
    expect(topIssuerName(parseChain(chainB))).toBe('Root B');
    expect(topIssuerName(parseChain(cert))).toBe('Issuing CA');
  });

  it('accepts a chain in which each certificate is signed by the next, with two intermediates too', () => {
    const top = intermediate('Top CA', rootA);
    const middle = intermediate('Middle CA', top);
    const deepLeaf = leaf('deep.example.test', middle);
    expect(chainLinkProblem(parseChain(deepLeaf + middle.pem + top.pem))).toBeNull();
    expect(chainLinkProblem(parseChain(chainA + rootA.pem))).toBeNull();
  });

  it('says which link is broken: the wrong order, another issuer, or a name without the key', () => {
    const top = intermediate('Top CA', rootA);
    const middle = intermediate('Middle CA', top);
    const deepLeaf = leaf('deep.example.test', middle);
    expect(chainLinkProblem(parseChain(deepLeaf + top.pem + middle.pem))).toBe('certificate 1 (deep.example.test) was not issued by certificate 2 (Top CA)');
    expect(chainLinkProblem(parseChain(cert + rootB.pem))).toBe('certificate 1 (www.example.test) was not issued by certificate 2 (Root B)');
    const impostor = intermediate('Issuing CA', rootA); // same name, another key
    expect(chainLinkProblem(parseChain(cert + impostor.pem))).toBe('the signature of certificate 1 (www.example.test) does not verify with the key of certificate 2 (Issuing CA)');
  });

  it('refuses text without a readable certificate', () => {
    expect(() => parseChain('nothing here')).toThrow('it holds no PEM certificate');
    expect(() => parseChain(`${cert}-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n`)).toThrow('certificate 2 of 2 cannot be read');
  });
});

describe('chooseChain', () => {
  it('keeps the default chain without a preference, reading no alternate', async () => {
    const offered = alternates([{ url: 'https://ca.test/cert/1', pem: chainB }], 0);
    const choice = await chooseChain(chainA, null, offered.items);
    expect(choice).toMatchObject({ pem: chainA, topIssuer: 'Root A', warnings: [], consideredAlternates: false });
  });

  it('keeps the default chain when it is the preferred one, reading no alternate', async () => {
    const offered = alternates([{ url: 'https://ca.test/cert/1', pem: chainB }], 0);
    expect(await chooseChain(chainA, 'Root A', offered.items)).toMatchObject({ pem: chainA, topIssuer: 'Root A', warnings: [] });
  });

  it('takes the first alternate whose top issuer is the preferred name, and reads no further', async () => {
    const offered = alternates(
      [
        { url: 'https://ca.test/cert/1', pem: chainB },
        { url: 'https://ca.test/cert/2', pem: chainC },
        { url: 'https://ca.test/cert/3', pem: chainC },
      ],
      2,
    );
    const choice = await chooseChain(chainA, 'Root C', offered.items);
    expect(choice).toMatchObject({ pem: chainC, topIssuer: 'Root C', warnings: [], consideredAlternates: true });
    expect(offered.read()).toBe(2);
  });

  it('matches exactly, case included; without a match it keeps the default and says what was offered', async () => {
    const choice = await chooseChain(chainA, 'root b', [
      { url: 'https://ca.test/cert/1', pem: chainB },
      { url: 'https://ca.test/cert/2', pem: chainC },
    ]);
    expect(choice.pem).toBe(chainA);
    expect(choice.warnings).toEqual([
      'no chain offered by the CA has the issuer "root b"; kept the default chain whose top issuer is "Root A" (offered: "Root A", "Root B", "Root C"); the name is matched exactly, and "Root B" differs in case',
    ]);
    const none = await chooseChain(chainA, 'Nobody', []);
    expect(none.warnings).toEqual(['no chain offered by the CA has the issuer "Nobody"; kept the default chain whose top issuer is "Root A" (offered: "Root A")']);
  });

  it('ignores, with a warning, an alternate with another leaf, a broken link, unreadable text or a failed download', async () => {
    const otherLeaf = leaf('www.example.test', issuingByB);
    const choice = await chooseChain(chainA, 'Root B', [
      { url: 'https://ca.test/cert/1', pem: otherLeaf + issuingByB.pem },
      { url: 'https://ca.test/cert/2', pem: cert + rootB.pem },
      { url: 'https://ca.test/cert/3', pem: 'not a chain' },
      { url: 'https://ca.test/cert/4', error: 'the CA answered HTTP 500' },
      { url: 'https://ca.test/cert/5', pem: chainB },
    ]);
    expect(choice.pem).toBe(chainB);
    expect(choice.warnings).toEqual([
      'ignored the alternate chain at https://ca.test/cert/1: its first certificate is not the certificate the CA issued in the default chain',
      'ignored the alternate chain at https://ca.test/cert/2: certificate 1 (www.example.test) was not issued by certificate 2 (Root B)',
      'ignored the alternate chain at https://ca.test/cert/3: it holds no PEM certificate',
      'ignored the alternate chain at https://ca.test/cert/4: it could not be downloaded: the CA answered HTTP 500',
    ]);
  });

  it('refuses a broken default chain when it is the one to store, but not when a sound alternate is preferred', async () => {
    const broken = cert + rootB.pem;
    const refused = await chooseChain(broken, null, []).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OperationError);
    expect((refused as Error).message).toBe('the certificate chain the CA sent is broken: certificate 1 (www.example.test) was not issued by certificate 2 (Root B); not storing it');
    await expect(chooseChain(broken, 'Nobody', [{ url: 'https://ca.test/cert/1', pem: chainA }])).rejects.toThrow(/chain the CA sent is broken/);
    expect((await chooseChain(broken, 'Root C', [{ url: 'https://ca.test/cert/1', pem: chainC }])).pem).toBe(chainC);
    await expect(chooseChain('no PEM', null, [])).rejects.toThrow('the certificate chain the CA sent cannot be used: it holds no PEM certificate');
  });
});

describe('downloadChain', () => {
  /** A CA whose default chain is chainA, offering `links` as alternates; every URL but the default serves `served(url)`. */
  function fakeCa(links: string[], served: (url: string) => string = () => chainB) {
    const downloads: string[] = [];
    const ca = {
      downloadCertificate: async (url: string): Promise<DownloadedCertificate> => {
        downloads.push(url);
        if (url === 'https://ca.test/cert/x') return { pem: chainA, alternates: links };
        return { pem: served(url), alternates: [] };
      },
    };
    return { ca, downloads };
  }

  it('downloads no alternate without a preference, or when the default chain is the preferred one', async () => {
    for (const preferred of [null, 'Root A']) {
      const { ca, downloads } = fakeCa(['https://ca.test/cert/x/1']);
      expect((await downloadChain(ca, 'https://ca.test/cert/x', preferred)).pem).toBe(chainA);
      expect(downloads).toEqual(['https://ca.test/cert/x']);
    }
  });

  it(`downloads at most ${MAX_ALTERNATE_CHAINS} alternates, only from the CA's origin, and says what it left out`, async () => {
    const links = ['https://elsewhere.test/cert/x/0', ...Array.from({ length: 12 }, (_, i) => `https://ca.test/cert/x/${i + 1}`)];
    const { ca, downloads } = fakeCa(links, () => chainC);
    const choice = await downloadChain(ca, 'https://ca.test/cert/x', 'Root B');
    expect(choice.pem).toBe(chainA);
    expect(downloads).toEqual(['https://ca.test/cert/x', ...links.slice(1, 1 + MAX_ALTERNATE_CHAINS)]);
    expect(choice.warnings).toEqual([
      "ignored the alternate chain at https://elsewhere.test/cert/x/0: it is not on the CA's server (https://ca.test)",
      `the CA offers 12 alternate chains; only the first ${MAX_ALTERNATE_CHAINS} were considered`,
      'no chain offered by the CA has the issuer "Root B"; kept the default chain whose top issuer is "Root A" (offered: "Root A", "Root C")',
    ]);
  });

  it('keeps going when one alternate cannot be downloaded', async () => {
    const ca = {
      downloadCertificate: async (url: string): Promise<DownloadedCertificate> => {
        if (url.endsWith('/1')) throw new OperationError('the CA answered HTTP 500 while downloading the certificate');
        return { pem: url.endsWith('/2') ? chainB : chainA, alternates: ['https://ca.test/cert/x/1', 'https://ca.test/cert/x/2'] };
      },
    };
    const choice = await downloadChain(ca, 'https://ca.test/cert/x', 'Root B');
    expect(choice.pem).toBe(chainB);
    expect(choice.warnings).toEqual(['ignored the alternate chain at https://ca.test/cert/x/1: it could not be downloaded: the CA answered HTTP 500 while downloading the certificate']);
  });
});
