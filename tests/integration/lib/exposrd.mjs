// Starts the real exposrd binary with a temporary config and talks HTTP to it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { withDeadline } from './deadline.mjs';
import { request } from './http.mjs';

export { request, withDeadline };

const BIN = process.env.EXPOSRD_BIN;
const MODULE_DIR = process.env.EXPOSRD_MODULE_DIR;
if (!BIN || !MODULE_DIR) {
  throw new Error('EXPOSRD_BIN and EXPOSRD_MODULE_DIR must be set (ctest sets them)');
}

function canListen(port, host) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

// A free port below Linux's ephemeral range (32768-60999): a port that listen(0) hands
// out may meanwhile become the local port of another process's outgoing connection.
export async function freePort(host = '127.0.0.1') {
  for (let i = 0; i < 100; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await canListen(port, host)) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}

export function waitFor(predicate, { timeout = 10000, interval = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      let ok = false;
      try {
        ok = await predicate();
      } catch {
        ok = false;
      }
      if (ok) return resolve(ok);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, interval);
    };
    tick();
  });
}

function canConnect(port, host) {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

// Runs exposrd until it exits; resolves with { code, signal, stderr }.
export function runExposrd(args, { env = {}, timeout = 15000 } = {}) {
  const proc = spawn(BIN, ['--module-dir', MODULE_DIR, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`exposrd did not exit: ${stderr}`)); }, timeout);
    proc.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

export function writeConfig(config) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposrd-test-'));
  const file = path.join(dir, 'exposrd.yaml');
  // JSON is YAML: the tests describe configs as objects.
  fs.writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return file;
}

// The default test config: memory storage and the public API on `port`.
export function baseConfig(port, extra = {}) {
  const modules = {
    'storage-memory': {},
    'api-v1': { port, 'allow-registration': true },
    ...extra.modules,
  };
  return { log: { level: 'warn' }, http: { bind: '127.0.0.1' }, ...extra, modules };
}

// A tunnel server on `port`: memory storage, the public API, the websocket transport and,
// unless `ingress` is false, the HTTP ingress for *.localhost:<port>.
export function tunnelConfig(port, { ingress = true } = {}) {
  return baseConfig(port, {
    modules: {
      'transport-ws': { port },
      ...(ingress ? { 'ingress-http': { url: `http://localhost:${port}`, port } } : {}),
    },
  });
}

/**
 * Starts exposrd. `config` is an object (or a function of the port) written as the
 * YAML file; waits until `waitPort` (default: the port) accepts connections on `host`
 * (default 127.0.0.1; another loopback address for a node bound there).
 */
export async function startExposrd({ config, args = [], env = {}, port, waitPort, host = '127.0.0.1' } = {}) {
  // A port chosen here can still be taken before exposrd binds it: then another one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch({ config, args, env, port: port ?? await freePort(), waitPort, host });
    } catch (e) {
      if (port !== undefined || attempt === 3 || !/Address already in use/.test(e.message)) throw e;
    }
  }
}

async function launch({ config, args, env, port, waitPort, host }) {
  const cfg = typeof config === 'function' ? config(port) : (config ?? baseConfig(port));
  const file = writeConfig(cfg);
  const proc = spawn(BIN, ['--config', file, '--module-dir', MODULE_DIR, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; if (process.env.EXPOSRD_TEST_VERBOSE) process.stderr.write(d); });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  let exitedEarly = null;
  exited.then((r) => { exitedEarly = r; });
  // Stops waiting as soon as exposrd exits.
  const failed = await waitFor(async () => exitedEarly !== null || canConnect(waitPort ?? port, host),
    { what: 'exposrd to listen', timeout: 15000 }).then(() => exitedEarly && 'it exited', (e) => e.message);
  if (failed) {
    proc.kill('SIGKILL');
    await exited;
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    throw new Error(`exposrd did not start (${failed}; exit ${JSON.stringify(exitedEarly)}):\n${stderr}`);
  }
  return {
    port,
    host,
    proc,
    configFile: file,
    stderr: () => stderr,
    exited,
    // Graceful stop; resolves with the exit status and everything exposrd logged.
    async stop({ signal = 'SIGTERM', timeout = 20000 } = {}) {
      if (exitedEarly) return { ...exitedEarly, stderr };
      proc.kill(signal);
      let killed = false;
      const timer = setTimeout(() => { killed = true; proc.kill('SIGKILL'); }, timeout);
      const r = await exited;
      clearTimeout(timer);
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      const note = killed ? `\n(exposrd did not exit within ${timeout} ms of ${signal}: killed)\n` : '';
      return { ...r, stderr: stderr + note };
    },
  };
}


/** The admin interface's /metrics on `port` as { name: value }. */
export async function readMetrics(port) {
  const r = await request(port, { path: '/metrics' });
  if (r.status !== 200) throw new Error(`/metrics: ${r.status} ${r.body}`);
  const values = {};
  for (const line of r.body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, value] = line.split(' ');
    values[name] = Number(value);
  }
  return values;
}

/** Sends raw bytes on a fresh TCP connection and collects everything until close. */
export function rawRequest(port, bytes, { host = '127.0.0.1', timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    const chunks = [];
    const timer = setTimeout(() => { s.destroy(); reject(new Error('raw request timed out')); }, timeout);
    s.on('connect', () => s.write(bytes));
    s.on('data', (c) => chunks.push(c));
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')); });
  });
}
