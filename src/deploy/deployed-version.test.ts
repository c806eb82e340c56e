import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { deployedAtLeast, readDeployedVersion, recordDeployedVersion } from './deployed-version.js';
import { exportPem } from './pem-export.js';

const files = (version: string) => ({ certPem: `cert ${version}\n`, chainPem: `chain ${version}\n`, fullchainPem: `full ${version}\n`, keyPem: `key ${version}\n` });

async function deployed(out: string, name: string, version: number): Promise<void> {
  await exportPem({ outDir: out, name, version: String(version), files: files(String(version)) });
  await recordDeployedVersion(out, name, version);
}

// The cheap check a renew with nothing to do makes for every certificate: it must never say "in place" when the
// careful path would write (a false "no" only costs the careful path).
describe('deployedAtLeast', () => {
  it('is true when the marker has this version or a later one and the link is in place', async () => {
    const out = tempDir('deployed');
    await deployed(out, 'a.example', 3);
    expect(deployedAtLeast(out, 'a.example', 3)).toBe(true);
    expect(deployedAtLeast(out, 'a.example', 2)).toBe(true);
    expect(deployedAtLeast(out, 'a.example', 4)).toBe(false);
  });

  it('is false when the files are gone though the marker stays, or the link is not acmectl\'s', async () => {
    const out = tempDir('deployed');
    await deployed(out, 'a.example', 1);
    rmSync(join(out, 'a.example'));
    expect(deployedAtLeast(out, 'a.example', 1)).toBe(false);
    symlinkSync('/etc', join(out, 'a.example'));
    expect(deployedAtLeast(out, 'a.example', 1)).toBe(false);
    rmSync(join(out, 'a.example'));
    mkdirSync(join(out, 'a.example'));
    expect(deployedAtLeast(out, 'a.example', 1)).toBe(false);
  });

  it('is false without a marker, or with one that is not a version (and agrees with the careful reading then)', async () => {
    const out = tempDir('deployed');
    await exportPem({ outDir: out, name: 'b.example', version: '2', files: files('2') });
    expect(deployedAtLeast(out, 'b.example', 2)).toBe(false);
    // Files exported before markers existed: the careful path still finds the linked version.
    expect(await readDeployedVersion(out, 'b.example')).toBe(2);
    writeFileSync(join(out, '.versions', 'b.example', '.deployed'), 'two\n');
    expect(deployedAtLeast(out, 'b.example', 2)).toBe(false);
    expect(deployedAtLeast(out, 'missing.example', 1)).toBe(false);
  });
});
