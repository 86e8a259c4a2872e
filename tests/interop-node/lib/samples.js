// Runs one of the Node SDK's own samples (node_modules/tablestore/samples)
// unchanged: its client.js reads the endpoint and credentials from the
// environment, which is all we swap.
'use strict';
const { execFile } = require('node:child_process');
const path = require('node:path');

const SAMPLES = path.join(path.dirname(require.resolve('tablestore/package.json')), 'samples');

function runSample(emu, file) {
  const env = {
    ...process.env,
    accessKeyId: emu.accessKeyId,
    secretAccessKey: emu.accessKeySecret,
    endpoint: emu.endpoint,
    instancename: emu.instance,
  };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--no-deprecation', path.join(SAMPLES, file)], { env, cwd: SAMPLES, timeout: 30000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${file} failed: ${err.message}\n${stdout}\n${stderr}`));
        else resolve({ stdout, stderr });
      });
  });
}

module.exports = { runSample, SAMPLES };
