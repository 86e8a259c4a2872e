// The emulator process for the Node SDK suite: started on a free loopback
// port with a fresh data dir, stopped with SIGTERM (it must exit 0).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..', '..');
const BIN = process.env.TABLESTORE_SINK_BIN || path.join(REPO, 'target', 'debug', 'tablestore-sink');
const INSTANCE = 'nodeinterop';
const ACCESS_KEY_ID = 'node-ak';
const ACCESS_KEY_SECRET = 'node-secret';
const STARTUP_TIMEOUT_MS = 10000;
const SHUTDOWN_TIMEOUT_MS = 15000;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startEmulator(...extraArgs) {
  if (!fs.existsSync(BIN)) {
    throw new Error(`emulator binary not found at ${BIN} (build it with cargo build, or set TABLESTORE_SINK_BIN)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-node-interop-'));
  const port = await freePort();
  const logPath = path.join(dataDir, 'emulator.log');
  const log = fs.openSync(logPath, 'w');
  const child = spawn(BIN, [
    'emulator', '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dataDir, 'data'),
    '--instance', INSTANCE, '--access-key-id', ACCESS_KEY_ID, '--access-key-secret', ACCESS_KEY_SECRET,
    ...extraArgs,
  ], { stdio: ['ignore', log, log] });
  let exited = null;
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!(await accepts(port))) {
    if (exited) throw new Error(`emulator exited during startup: ${JSON.stringify(exited)}\n${fs.readFileSync(logPath, 'utf8')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`emulator did not accept on ${port} within ${STARTUP_TIMEOUT_MS} ms`);
    }
    await sleep(50);
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    instance: INSTANCE,
    accessKeyId: ACCESS_KEY_ID,
    accessKeySecret: ACCESS_KEY_SECRET,
    log: () => fs.readFileSync(logPath, 'utf8'),
    /** SIGTERM, then the exit code (must be 0); removes the data dir. */
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
      const result = await exit;
      clearTimeout(timer);
      fs.closeSync(log);
      const text = fs.readFileSync(logPath, 'utf8');
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (result.code !== 0) throw new Error(`emulator exited with ${JSON.stringify(result)} on SIGTERM:\n${text}`);
      return result.code;
    },
  };
}

module.exports = { startEmulator, INSTANCE, ACCESS_KEY_ID, ACCESS_KEY_SECRET };
