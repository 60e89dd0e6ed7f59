// The exposr client in C (client/) against the real exposrd: every command, traffic
// through a tunnel (10 MiB, SHA-256 on both ends), http/https/tcp targets, reconnection
// after a server restart, stopping on close code 1008, Ctrl-C closing with 1000, and the
// errors a user meets (bad server URL, unknown account, registration off).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { freePort, request, startExposrd, waitFor } from './lib/exposrd.mjs';
import { api, newAccount, newTunnel, waitForState } from './lib/api.mjs';

const BIN = process.env.EXPOSR_CLIENT_BIN;
if (!BIN) throw new Error('EXPOSR_CLIENT_BIN must be set (ctest sets it)');
const MiB = 1024 * 1024;
const ACCOUNT_HR = /^[CDEFHJKMNPRTVWXY2345689]{4}(-[CDEFHJKMNPRTVWXY2345689]{4}){3}$/;

function config(port, storage = { 'storage-memory': {} }, registration = true) {
  return {
    log: { level: 'warn' },
    http: { bind: '127.0.0.1' },
    modules: {
      ...storage,
      'api-v1': { port, 'allow-registration': registration },
      'transport-ws': { port },
      'ingress-http': { url: `http://localhost:${port}`, port },
    },
  };
}

// Runs exposr to completion: { code, signal, stdout, stderr }.
function exposr(args, { timeout = 15000, env = {} } = {}) {
  const proc = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`exposr ${args.join(' ')} did not exit: ${stderr}`)); }, timeout);
    proc.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

// Starts a long-running exposr (tunnel connect); the caller stops it.
function startExposr(args) {
  const proc = spawn(BIN, ['--non-interactive', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  proc.stdout.on('data', (d) => { out.stdout += d; });
  proc.stderr.on('data', (d) => { out.stderr += d; if (process.env.EXPOSRD_TEST_VERBOSE) process.stderr.write(d); });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  let status = null;
  exited.then((s) => { status = s; });
  return {
    proc,
    out,
    exited,
    status: () => status,
    async stop(signal = 'SIGINT', timeout = 10000) {
      if (status) return status;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeout);
      const s = await exited;
      clearTimeout(timer);
      return s;
    },
  };
}

// A target answering GET /<n> with n deterministic bytes and their SHA-256 in a header.
const BLOCK = crypto.randomBytes(64 * 1024);
function body(size) {
  const parts = [];
  for (let off = 0; off < size; off += BLOCK.length) parts.push(BLOCK.subarray(0, Math.min(BLOCK.length, size - off)));
  return Buffer.concat(parts);
}
function handler(req, res) {
  if (req.method === 'POST') {
    const h = crypto.createHash('sha256');
    let n = 0;
    req.on('data', (c) => { h.update(c); n += c.length; });
    req.on('end', () => { res.end(JSON.stringify({ bytes: n, sha256: h.digest('hex') })); });
    return;
  }
  const size = Number(req.url.slice(1)) || 0;
  const b = body(size);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-sha256': crypto.createHash('sha256').update(b).digest('hex') });
  res.end(b);
}

// GET through the ingress as raw bytes.
function fetchBytes(port, host, p, timeout = 30000) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, headers: { host }, agent: false, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${p} via ${host} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

let server;
let target;
let targetPort;
before(async () => {
  server = await startExposrd({ config: (port) => config(port) });
  target = http.createServer(handler);
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  targetPort = target.address().port;
});
after(async () => {
  target.close();
  await server.stop();
});

const S = () => ['-s', `http://localhost:${server.port}`];

test('account create prints the new account number', async () => {
  const r = await exposr([...S(), 'account', 'create']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.trim(), ACCOUNT_HR);
  const tok = await api(server.port, 'GET', `/v1/account/${r.stdout.trim()}/token`);
  assert.equal(tok.status, 201);
});

test('tunnel create, configure, info, disconnect and delete drive the API', async () => {
  const acct = (await exposr([...S(), 'account', 'create'])).stdout.trim();
  const token = (await api(server.port, 'GET', `/v1/account/${acct}/token`)).json.token;
  const A = [...S(), '-a', acct];
  let r = await exposr([...A, 'tunnel', 'create', 'cli-tunnel-1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'cli-tunnel-1\n');
  r = await exposr([...A, 'tunnel', 'configure', 'cli-tunnel-1', 'target-url', `http://127.0.0.1:${targetPort}`,
    'ingress-http', 'on', 'transport-ws', 'true']);
  assert.equal(r.code, 0, r.stderr);
  let t = (await api(server.port, 'GET', '/v1/tunnel/cli-tunnel-1', { token })).json;
  assert.equal(t.target.url, `http://127.0.0.1:${targetPort}/`);
  assert.equal(t.ingress.http.enabled, true);
  assert.equal(t.transport.ws.enabled, true);
  // 0.10's spelling, with "set".
  r = await exposr([...A, 'tunnel', 'configure', 'cli-tunnel-1', 'set', 'ingress-http', 'off']);
  assert.equal(r.code, 0, r.stderr);
  t = (await api(server.port, 'GET', '/v1/tunnel/cli-tunnel-1', { token })).json;
  assert.deepEqual(t.ingress.http, {});
  r = await exposr([...A, 'tunnel', 'info', 'cli-tunnel-1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Tunnel: +cli-tunnel-1$/m);
  assert.match(r.stdout, new RegExp(`^Target: +http://127\\.0\\.0\\.1:${targetPort}/$`, 'm'));
  assert.match(r.stdout, /^Ingress HTTP: +disabled$/m);
  assert.match(r.stdout, /^Connected: +no \(0 connections\)$/m);
  // A random id without ID, and settings on create.
  r = await exposr([...A, 'tunnel', 'create', 'ingress-http', 'yes']);
  assert.equal(r.code, 0, r.stderr);
  const random = r.stdout.trim();
  assert.match(random, /^[a-z0-9]{16}$/);
  t = (await api(server.port, 'GET', `/v1/tunnel/${random}`, { token })).json;
  assert.equal(t.ingress.http.url, `http://${random}.localhost:${server.port}/`);
  r = await exposr([...A, 'tunnel', 'disconnect', 'cli-tunnel-1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Tunnel cli-tunnel-1 disconnected/);
  r = await exposr([...A, 'tunnel', 'delete', 'cli-tunnel-1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await api(server.port, 'GET', '/v1/tunnel/cli-tunnel-1', { token })).status, 404);
  r = await exposr([...A, 'tunnel', 'info', 'cli-tunnel-1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Tunnel not found/);
  r = await exposr([...A, 'tunnel', 'configure', 'cli-tunnel-1', 'ingress-http-altnames', 'x']);
  assert.equal(r.code, 1);
});

test('tunnel connect registers, creates, connects; 10 MiB both ways; Ctrl-C exits 0 and deletes the tunnel', async () => {
  const c = startExposr([...S(), 'tunnel', 'connect', 'cli-connect-1', `http://127.0.0.1:${targetPort}`]);
  try {
    const host = `cli-connect-1.localhost:${server.port}`;
    await waitFor(async () => (await fetchBytes(server.port, host, '/5')).status === 200,
      { what: 'a page through the tunnel', timeout: 10000 });
    const small = await fetchBytes(server.port, host, '/5');
    assert.deepEqual(small.body, BLOCK.subarray(0, 5));
    const big = await fetchBytes(server.port, host, `/${10 * MiB}`);
    assert.equal(big.status, 200);
    assert.equal(big.body.length, 10 * MiB);
    assert.equal(crypto.createHash('sha256').update(big.body).digest('hex'), big.headers['x-sha256']);
    // And 10 MiB up.
    const up = body(10 * MiB);
    const res = await request(server.port, { method: 'POST', path: '/', headers: { host }, body: up, timeout: 30000 });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json, { bytes: up.length, sha256: crypto.createHash('sha256').update(up).digest('hex') });
    assert.match(c.out.stderr, /Created account [0-9A-Z-]{19}/);
    assert.match(c.out.stderr, /Created tunnel cli-connect-1/);
    assert.match(c.out.stderr, new RegExp(`Tunnel cli-connect-1: http://cli-connect-1\\.localhost:${server.port}/ -> http://127\\.0\\.0\\.1:${targetPort}/, 2 connections`));
  } finally {
    const s = await c.stop('SIGINT');
    assert.deepEqual(s, { code: 0, signal: null }, c.out.stderr);
  }
  assert.match(c.out.stderr, /Deleted tunnel cli-connect-1/);
  // A tunnel the client created is gone once it exits, as with exposr 0.10.
  const reg = await newAccount(server.port);
  await newTunnel(server.port, reg, 'cli-connect-1');
});

test('tunnel connect with an existing account and tunnel keeps it; tcp:// target', async () => {
  const acct = await newAccount(server.port);
  await newTunnel(server.port, acct, 'cli-connect-tcp');
  const c = startExposr([...S(), '-a', acct.hr, '--transport-max-connections', '1', 'tunnel', 'connect',
    'cli-connect-tcp', `tcp://127.0.0.1:${targetPort}`, 'ingress-http', 'on']);
  try {
    const t = await waitForState(server.port, acct, 'cli-connect-tcp', (s) => s.connected, 10000);
    assert.equal(t.connection.connections, 1);
    assert.equal(t.target.url, `tcp://127.0.0.1:${targetPort}`);
    const r = await fetchBytes(server.port, `cli-connect-tcp.localhost:${server.port}`, '/1000');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, BLOCK.subarray(0, 1000));
  } finally {
    assert.deepEqual(await c.stop('SIGTERM'), { code: 0, signal: null }, c.out.stderr);
  }
  assert.doesNotMatch(c.out.stderr, /Deleted tunnel/);
  await waitForState(server.port, acct, 'cli-connect-tcp', (s) => !s.connected, 5000);
});

test('https target: verified by default, --insecure skips the check', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposr-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const gen = spawn('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  assert.equal((await once(gen, 'exit'))[0], 0, 'openssl req');
  const tls = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, handler);
  tls.listen(0, '127.0.0.1');
  await once(tls, 'listening');
  const url = `https://localhost:${tls.address().port}`;
  const acct = await newAccount(server.port);
  try {
    for (const [id, extra, status] of [['cli-tls-verify', [], 502], ['cli-tls-insecure', ['--insecure'], 200]]) {
      const c = startExposr([...S(), '-a', acct.hr, ...extra, 'tunnel', 'connect', id, url]);
      try {
        await waitForState(server.port, acct, id, (s) => s.connected, 10000);
        const r = await fetchBytes(server.port, `${id}.localhost:${server.port}`, '/3000');
        assert.equal(r.status, status, `${id}: ${r.body}`);
        if (status === 200) assert.deepEqual(r.body, BLOCK.subarray(0, 3000));
      } finally {
        assert.deepEqual(await c.stop(), { code: 0, signal: null }, c.out.stderr);
      }
    }
  } finally {
    tls.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a connection the server refuses with 1008 is not retried: the client stops', async () => {
  const acct = await newAccount(server.port);
  await newTunnel(server.port, acct, 'cli-1008', { target: { url: `http://127.0.0.1:${targetPort}` } });
  // The server allows 2 connections per tunnel: the first client takes both.
  const first = startExposr([...S(), '-a', acct.hr, 'tunnel', 'connect', 'cli-1008']);
  try {
    await waitForState(server.port, acct, 'cli-1008', (s) => s.connections === 2, 10000);
    const second = await exposr([...S(), '-a', acct.hr, '--non-interactive', 'tunnel', 'connect', 'cli-1008'], { timeout: 15000 });
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /connection 1 closed by the server \(1008\): not reconnecting/);
    assert.match(second.stderr, /connection 2 closed by the server \(1008\): not reconnecting/);
    assert.match(second.stderr, /every connection was closed by the server/);
    assert.equal((second.stderr.match(/established/g) ?? []).length, 2, 'one attempt per connection');
    assert.equal(first.status(), null, 'the first client is still running');
  } finally {
    assert.deepEqual(await first.stop(), { code: 0, signal: null }, first.out.stderr);
  }
});

// A stand-in server: the API answers of §2 for one tunnel, and a websocket endpoint that
// records how each connection ends and closes new ones with `closeWith` (if set).
async function fakeServer({ closeWith, goneAfter = Infinity } = {}) {
  const port = await freePort();
  const closes = [];
  let connections = 0;
  let gets = 0;
  const tunnel = () => ({
    id: 'fake-tunnel',
    connection: { connected: false, connections: 0 },
    transport: { max_connections: 1, ws: { enabled: true, url: `ws://127.0.0.1:${port}/v1/tunnel/fake-tunnel/ws-endpoint?t=tok` } },
    ingress: { http: { enabled: true, url: 'http://fake-tunnel.example/', urls: ['http://fake-tunnel.example/'], alt_names: [] }, sni: {} },
    target: { url: 'http://127.0.0.1:9/' },
    created_at: '2024-01-01T00:00:00.000Z',
  });
  const srv = http.createServer((req, res) => {
    req.resume();
    const reply = (status, obj) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
    if (req.url.endsWith('/token')) return reply(201, { token: 'dG9r' });
    if (req.url === '/v1/tunnel/fake-tunnel' && (req.method !== 'GET' || ++gets <= goneAfter)) return reply(200, tunnel());
    return reply(404, { error: 'TUNNEL_NOT_FOUND' });
  });
  const wss = new WebSocketServer({ server: srv });
  wss.on('connection', (ws) => {
    connections++;
    ws.on('close', (code) => closes.push(code));
    if (closeWith) ws.close(closeWith, 'go away');
  });
  srv.listen(port, '127.0.0.1');
  await once(srv, 'listening');
  return { port, closes, connections: () => connections, close: () => { wss.close(); srv.close(); } };
}

test('Ctrl-C closes the websocket with 1000 and exits 0', async () => {
  const fake = await fakeServer();
  const c = startExposr(['-s', `http://127.0.0.1:${fake.port}`, '-a', 'AAAA-BBBB', 'tunnel', 'connect', 'fake-tunnel']);
  try {
    await waitFor(() => fake.connections() === 1, { what: 'the websocket', timeout: 10000 });
    assert.deepEqual(await c.stop('SIGINT'), { code: 0, signal: null }, c.out.stderr);
    await waitFor(() => fake.closes.length === 1, { what: 'the close at the server', timeout: 5000 });
    assert.deepEqual(fake.closes, [1000]);
  } finally {
    await c.stop('SIGKILL');
    fake.close();
  }
});

test('a server closing with 1008 stops the client (exit 1), with no new attempt', async () => {
  const fake = await fakeServer({ closeWith: 1008 });
  const r = await exposr(['-s', `http://127.0.0.1:${fake.port}`, '-a', 'AAAA-BBBB', '--non-interactive', 'tunnel', 'connect', 'fake-tunnel']);
  fake.close();
  assert.equal(r.code, 1, r.stderr);
  assert.equal(fake.connections(), 1);
  assert.match(r.stderr, /connection 1 closed by the server \(1008\): not reconnecting/);
});

test('a tunnel gone before a websocket is opened stops the client (exit 1)', async () => {
  // The setup reads the tunnel twice (§2.8 steps 3 and 5); the slot's own read finds it gone.
  const fake = await fakeServer({ goneAfter: 2 });
  const r = await exposr(['-s', `http://127.0.0.1:${fake.port}`, '-a', 'AAAA-BBBB', '--non-interactive', 'tunnel', 'connect', 'fake-tunnel']);
  fake.close();
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /connection 1: Tunnel not found/);
  assert.equal(fake.connections(), 0);
});

test('the client reconnects after the server restarts', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposr-restart-'));
  const storage = { 'storage-sqlite': { url: `sqlite://${path.join(dir, 'db.sqlite')}` } };
  let srv = await startExposrd({ config: (port) => config(port, storage) });
  const port = srv.port;
  const acct = await newAccount(port);
  await newTunnel(port, acct, 'cli-restart', { target: { url: `http://127.0.0.1:${targetPort}` }, ingress: { http: { enabled: true } } });
  const c = startExposr(['-s', `http://localhost:${port}`, '-a', acct.hr, 'tunnel', 'connect', 'cli-restart']);
  try {
    await waitForState(port, acct, 'cli-restart', (s) => s.connections === 2, 10000);
    await srv.stop();
    srv = await startExposrd({ config: (p) => config(p, storage), port });
    await waitForState(port, acct, 'cli-restart', (s) => s.connections === 2, 15000);
    const r = await fetchBytes(port, `cli-restart.localhost:${port}`, '/4096');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, BLOCK.subarray(0, 4096));
    assert.match(c.out.stderr, /connection [12] closed \(1001\), reconnecting/);
  } finally {
    assert.deepEqual(await c.stop(), { code: 0, signal: null }, c.out.stderr);
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('errors a user meets: exit code and a message that says what is wrong', async () => {
  const closed = await freePort();
  let r = await exposr(['-s', `http://127.0.0.1:${closed}`, 'account', 'create']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`POST /v1/account: cannot reach http://127\\.0\\.0\\.1:${closed} \\(connection refused, reset or timed out\\)`));
  r = await exposr(['-s', 'localhost:8080', 'account', 'create']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not an absolute URL: localhost:8080/);
  r = await exposr(['-s', `ftp://127.0.0.1:${closed}`, 'account', 'create']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unsupported URL scheme/);
  r = await exposr([...S(), '-a', 'NOPE-NOPE-NOPE-NOPE', 'tunnel', 'info', 'some-tunnel']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`Permission denied: http://localhost:${server.port} does not know account NOPE-NOPE-NOPE-NOPE`));
  r = await exposr([...S(), '-a', 'NOPE-NOPE-NOPE-NOPE', 'tunnel', 'connect', 'some-tunnel', 'http://127.0.0.1:1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Permission denied/);
  r = await exposr([...S(), 'tunnel', 'info', 'some-tunnel']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No account was provided \(-a ACCOUNT or EXPOSR_ACCOUNT\)/);
  r = await exposr([...S(), 'tunnel', 'connect', 'ab', 'http://127.0.0.1:1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Bad input: "tunnel_id" with value "ab" fails to match/);
  r = await exposr([...S(), 'tunnel', 'bogus']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "tunnel bogus"/);
  r = await exposr(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^exposr \d+\.\d+\.\d+\n$/);
  r = await exposr(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /tunnel connect \[ID\] \[TARGET-URL\]/);
  // EXPOSR_* variables stand for the options.
  r = await exposr(['account', 'create'], { env: { EXPOSR_SERVER: `http://localhost:${server.port}` } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.trim(), ACCOUNT_HR);
});

test('registration off: account create and connect without -a say so', async () => {
  const off = await startExposrd({ config: (port) => config(port, undefined, false) });
  try {
    for (const cmd of [['account', 'create'], ['tunnel', 'connect', 'x-tunnel', 'http://127.0.0.1:1']]) {
      const r = await exposr(['-s', `http://localhost:${off.port}`, ...cmd]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`Account registration not enabled on http://localhost:${off.port}`));
    }
  } finally {
    await off.stop();
  }
});

test('on a terminal: a status line with the URL, websockets, requests and bytes; Ctrl-C on the terminal ends it', async () => {
  // script(1) gives exposr a pseudo-terminal; ^C typed into it is a real Ctrl-C. script
  // runs the command through $SHELL -c; dash, /bin/sh when SHELL is unset, would stay as
  // its parent in the terminal's process group, take the Ctrl-C itself and exit 130
  // before exposr finished. exec leaves exposr alone on the terminal, with either shell.
  const cmd = [BIN, '-s', `http://localhost:${server.port}`, 'tunnel', 'connect', 'cli-tty', `http://127.0.0.1:${targetPort}`]
    .map((a) => `'${a}'`).join(' ');
  const proc = spawn('script', ['-qfec', `exec ${cmd}`, '/dev/null'],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SHELL: '/bin/sh' } });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  const statusLine = (re) => out.split(/\r|\n/).some((l) => re.test(l));
  try {
    await waitFor(() => statusLine(new RegExp(`http://cli-tty\\.localhost:${server.port}/ -> http://127\\.0\\.0\\.1:${targetPort}/ \\| websockets 2/2`)),
      { what: `the status line with both websockets up (output: ${JSON.stringify(out.slice(-300))})`, timeout: 10000 });
    for (let i = 0; i < 3; i++) {
      const r = await fetchBytes(server.port, `cli-tty.localhost:${server.port}`, '/2048');
      assert.equal(r.status, 200);
    }
    await waitFor(() => statusLine(/\| requests 3 \| in [0-9.]+ (B|KiB), out [0-9.]+ KiB$/),
      { what: `the status line counting 3 requests (output: ${JSON.stringify(out.slice(-300))})`, timeout: 5000 });
    assert.match(out, /\r\x1b\[K/, 'the line is redrawn in place');
    assert.doesNotMatch(out, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info/, 'no time-stamped log lines on a terminal');
    proc.stdin.write('\x03');
    assert.equal(await exited, 0, out);
  } finally {
    proc.kill('SIGKILL');
  }
});
