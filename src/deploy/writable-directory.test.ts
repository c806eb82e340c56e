import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { checkWritableDirectory } from './writable-directory.js';

describe('checkWritableDirectory', () => {
  it('is writable when it exists, or when its nearest existing ancestor is (acmectl creates the rest)', async () => {
    const root = tempDir('out');
    mkdirSync(join(root, 'live'));
    expect(await checkWritableDirectory(join(root, 'live'))).toEqual({ writable: true, exists: true });
    expect(await checkWritableDirectory(join(root, 'not', 'yet'))).toEqual({ writable: true, exists: false });
  });

  it('is not writable when a file is in the way', async () => {
    const root = tempDir('out');
    writeFileSync(join(root, 'live'), '');
    expect(await checkWritableDirectory(join(root, 'live', 'certs'))).toEqual({ writable: false, path: join(root, 'live'), reason: 'not a directory' });
  });
});
