// Child process for the process-crash test of src/deploy/pem-export.test.ts: exports versions
// firstVersion, firstVersion+1, ... of one certificate in a loop until it is killed (SIGKILL).
// Usage: node pem-export-crash-worker.mjs OUT_DIR NAME FIRST_VERSION BYTES_PER_FILE
// Prints "ready" once the module is loaded, so the parent can time its kill into the export loop.
// The content of every file is a function of (file, version, size): pem-export.test.ts has the same function
// (crashTestPemFiles) and checks that what is served is exactly one version.
import { exportPem } from '../../dist/deploy/pem-export.js';

const [outDir, name, firstVersion, bytesPerFile] = process.argv.slice(2);

function crashTestPemFiles(version, size) {
  const content = (file) => {
    const unit = `${file}:${version};`;
    return `# ${file} version ${version}\n${unit.repeat(Math.ceil(size / unit.length))}\n`;
  };
  return {
    certPem: content('cert'),
    chainPem: content('chain'),
    fullchainPem: content('fullchain'),
    keyPem: content('privkey'),
  };
}

process.stdout.write('ready\n');
for (let version = Number(firstVersion); ; version++) {
  await exportPem({ outDir, name, version: String(version), files: crashTestPemFiles(version, Number(bytesPerFile)) });
}
