// The SSH transport (docs/ssh.md §7) with stock OpenSSH on loopback: forwarding through
// the HTTP ingress, both authentication forms, the target rule of tcpip-forward, sessions,
// disconnects, max-connections shared with websockets, the persisted host key, and what a
// hostile client (the ssh2 library) may send.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import ssh2 from 'ssh2';

import { api, newAccount, newTunnel, waitForState } from './lib/api.mjs';
import { freePort, readMetrics, request, startExposrd, waitFor } from './lib/exposrd.mjs';
import { connectRaw } from './lib/rawmux.mjs';
import { startRedis } from './lib/redis.mjs';
import { forward, spawnSsh } from './lib/ssh.mjs';

const MiB = 1024 * 1024;
const BLOB = crypto.randomBytes(10 * MiB);
const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// Back-pressure probes: how far a 64 MiB stream got, and the sink that holds an upload.
const STREAM_SIZE = 64 * MiB;
const probe = { streamed: 0, sink: null };

// Writes STREAM_SIZE bytes as fast as the connection takes them, counting.
function serveStream(res) {
  probe.streamed = 0;
  const chunk = Buffer.alloc(64 * 1024, 'z');
  res.writeHead(200, { 'Content-Length': STREAM_SIZE });
  const pump = () => {
    while (probe.streamed < STREAM_SIZE) {
      probe.streamed += chunk.length;
      if (!res.write(chunk)) return res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

// Reads nothing of the upload until the test calls probe.sink(); then answers its SHA-256.
function holdUpload(req, res) {
  req.pause();
  const hash = crypto.createHash('sha256');
  probe.sink = () => { req.on('data', (c) => hash.update(c)); req.resume(); };
  req.on('end', () => res.end(hash.digest('hex')));
}

// The target behind the tunnels: GET / says hello, GET /blob serves BLOB, POST echoes.
function startTarget() {
  const server = http.createServer((req, res) => {
    if (req.url === '/stream') return serveStream(res);
    if (req.url === '/sink') return holdUpload(req, res);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.from('hello');
      if (req.url === '/blob') body = BLOB;
      if (req.method === 'POST') body = Buffer.concat(chunks);
      res.writeHead(200, { 'Content-Length': body.length });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let keyDir;
let sshPort;
let srv;
let adminPort;
let target;
let targetPort;
let account;
let seq = 0;
let tls; // { cert, key, file }: a self-signed certificate for "localhost", trusted by srv
let secure; // an HTTPS target with that certificate
let securePort;

function makeCertificate(dir) {
  const key = path.join(dir, 'target.key');
  const cert = path.join(dir, 'target.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
    '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert), file: cert };
}

function startSecureTarget() {
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    res.writeHead(200, { 'Content-Length': 12 });
    res.end('secure hello');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function config(port, { maxConnections = 2 } = {}) {
  return {
    log: { level: 'warn' },
    http: { bind: '127.0.0.1' },
    tunnels: { 'max-connections': maxConnections },
    modules: {
      'storage-memory': {},
      'api-v1': { port, 'allow-registration': true },
      'transport-ws': { port },
      'ingress-http': { url: `http://localhost:${port}`, port },
      'transport-ssh': { port: sshPort, bind: '127.0.0.1', 'key-file': path.join(keyDir, 'host-key') },
      admin: { port: adminPort },
    },
  };
}

async function tunnel(body = {}) {
  const id = `ssh-tunnel-${++seq}`;
  const t = await newTunnel(srv.port, account, id, {
    target: { url: `http://127.0.0.1:${targetPort}/` },
    ingress: { http: { enabled: true } },
    ...body,
  });
  return { id, token: t.transport.ssh.password, object: t };
}

async function getTunnel(id) {
  const res = await api(srv.port, 'GET', `/v1/tunnel/${id}`, { token: account.token });
  assert.equal(res.status, 200, res.body);
  return res.json;
}

const freshToken = async (id) => (await getTunnel(id)).transport.ssh.password;

function ingress(id, options = {}) {
  return request(srv.port, { ...options, headers: { Host: `${id}.localhost:${srv.port}`, ...options.headers }, timeout: 30000 });
}

function rawIngress(id, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, method, path: urlPath,
      headers: { Host: `${id}.localhost:${srv.port}`, 'Content-Length': body?.length ?? 0 } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposrd-ssh-'));
  sshPort = await freePort();
  adminPort = await freePort();
  tls = makeCertificate(keyDir);
  // OpenSSL's default trust store: the server verifies targets against it.
  srv = await startExposrd({ config: (port) => config(port), env: { SSL_CERT_FILE: tls.file } });
  await waitFor(() => new Promise((resolve) => {
    const s = net.connect(sshPort, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }), { what: 'the SSH port to listen' });
  target = await startTarget();
  targetPort = target.address().port;
  secure = await startSecureTarget();
  securePort = secure.address().port;
  account = await newAccount(srv.port);
});

after(async () => {
  target?.close();
  secure?.close();
  const r = await srv?.stop();
  fs.rmSync(keyDir, { recursive: true, force: true });
  assert.equal(r?.code, 0, r?.stderr);
});

describe('forwarding with ssh -R', () => {
  test('ssh -N -R 0:127.0.0.1:PORT carries HTTP and 10 MiB both ways intact', async () => {
    const { id, token } = await tunnel();
    const ssh = await forward(sshPort, id, token, `0:127.0.0.1:${targetPort}`);
    try {
      await ssh.waitOutput(new RegExp(`Allocated port ${targetPort} for remote forward`));
      const hello = await ingress(id);
      assert.equal(hello.status, 200);
      assert.equal(hello.body, 'hello');
      const down = await rawIngress(id, 'GET', '/blob');
      assert.equal(down.status, 200);
      assert.equal(down.body.length, BLOB.length);
      assert.equal(sha(down.body), sha(BLOB));
      const up = await rawIngress(id, 'POST', '/echo', BLOB);
      assert.equal(up.status, 200);
      assert.equal(sha(up.body), sha(BLOB));
      const t = await getTunnel(id);
      assert.equal(t.connection.connected, true);
      assert.equal(t.connection.connections, 1);
    } finally {
      await ssh.kill();
    }
    await waitForState(srv.port, account, id, (c) => !c.connected);
  });

  test('ssh id@host with the token as password (sshpass)', async () => {
    const { id, token } = await tunnel();
    const ssh = await forward(sshPort, id, token, `0:127.0.0.1:${targetPort}`, { password: true });
    try {
      const res = await ingress(id);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'hello');
    } finally {
      await ssh.kill();
    }
  });

  test('-R example.test:8080:127.0.0.1:PORT makes http://example.test:8080/ the target', async () => {
    const { id, token } = await tunnel();
    const ssh = await forward(sshPort, id, token, `example.test:8080:127.0.0.1:${targetPort}`);
    try {
      assert.equal((await getTunnel(id)).target.url, 'http://example.test:8080/');
      // The channel names the forward as OpenSSH registered it, so traffic still flows.
      const res = await ingress(id);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'hello');
    } finally {
      await ssh.kill();
    }
  });

  test('a tunnel without target refuses -R 0:... (no port to allocate)', async () => {
    const { id, token } = await tunnel({ target: { url: null } });
    const ssh = spawnSsh(['-N', '-o', 'ExitOnForwardFailure=yes', '-R', `0:127.0.0.1:${targetPort}`,
      `ssh://${id}:${token}@127.0.0.1:${sshPort}`]);
    const r = await ssh.waitExit({ what: 'ssh to give up on the refused forward' });
    assert.notEqual(r.code, 0);
    assert.match(ssh.stderr(), /remote port forwarding failed/);
  });

  test('closing one forwarded channel leaves the connection and the next request works', async () => {
    const { id, token } = await tunnel();
    const ssh = await forward(sshPort, id, token, `0:127.0.0.1:${targetPort}`);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await ingress(id, { headers: { Connection: 'close' } });
        assert.equal(res.status, 200);
      }
      assert.equal(ssh.proc.exitCode, null, 'ssh is still connected');
      assert.equal((await getTunnel(id)).connection.connections, 1);
      // Every channel is freed once its request is done: none leaks.
      await waitFor(async () => (await readMetrics(adminPort)).exposrd_transport_ssh_channels === 0,
        { what: 'the forwarded channels to be freed' });
      // Earlier tests' connections may still be closing: this one stays.
      await waitFor(async () => (await readMetrics(adminPort)).exposrd_transport_ssh_connections === 1,
        { what: 'one SSH connection left open' });
    } finally {
      await ssh.kill();
    }
  });
});

/** Polls `count()` until it stays the same for a second; resolves with that value. */
function stallPoint(count, what) {
  return waitFor(async () => {
    const before = count();
    await new Promise((r) => setTimeout(r, 1000));
    return count() === before ? before + 1 : false;
  }, { timeout: 30000, interval: 0, what }).then((v) => v - 1);
}

describe('back-pressure', () => {
  test('a public client that reads nothing stops the download far short of its end', async () => {
    const { id, token } = await tunnel();
    const ssh = await forward(sshPort, id, token, `0:127.0.0.1:${targetPort}`);
    const sock = net.connect(srv.port, '127.0.0.1');
    try {
      let received = 0;
      const hash = crypto.createHash('sha256');
      sock.on('data', (d) => { received += d.length; hash.update(d); });
      sock.write(`GET /stream HTTP/1.1\r\nHost: ${id}.localhost:${srv.port}\r\nConnection: close\r\n\r\n`);
      await waitFor(() => received > 0, { what: 'the first bytes of the stream' });
      sock.pause();
      const stalled = await stallPoint(() => probe.streamed, 'the target to stop writing');
      console.log(`# download stalled after ${stalled} bytes`);
      assert.ok(stalled < STREAM_SIZE / 2, `the target wrote ${stalled} bytes for a client that reads nothing`);
      sock.resume();
      await waitFor(() => received >= STREAM_SIZE, { timeout: 30000, what: 'the rest of the stream' });
      assert.equal(probe.streamed, STREAM_SIZE);
    } finally {
      sock.destroy();
      await ssh.kill();
    }
  });

  test('a target that reads nothing stops the upload; then it all arrives', async () => {
    const { id, token } = await tunnel();
    const ssh = await forward(sshPort, id, token, `0:127.0.0.1:${targetPort}`);
    const sock = net.connect(srv.port, '127.0.0.1');
    try {
      let answer = '';
      sock.on('data', (d) => { answer += d; });
      probe.sink = null;
      sock.write(`POST /sink HTTP/1.1\r\nHost: ${id}.localhost:${srv.port}\r\nContent-Length: ${STREAM_SIZE}\r\nConnection: close\r\n\r\n`);
      let written = 0;
      const expected = crypto.createHash('sha256');
      const chunk = crypto.randomBytes(64 * 1024);
      const writeAll = (async () => {
        while (written < STREAM_SIZE) {
          expected.update(chunk);
          written += chunk.length;
          if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
        }
      })();
      const stalled = await stallPoint(() => written, 'the upload to stall');
      console.log(`# upload stalled after ${stalled} bytes`);
      assert.ok(stalled < STREAM_SIZE / 2, `the client could write ${stalled} bytes to a target that reads nothing`);
      await waitFor(() => probe.sink !== null, { what: 'the request to reach the target' });
      probe.sink();
      await writeAll;
      await waitFor(() => /\r\n\r\n[0-9a-f]{64}$/.test(answer), { timeout: 30000, what: 'the target\'s answer' });
      assert.ok(answer.endsWith(expected.digest('hex')), answer);
    } finally {
      sock.destroy();
      await ssh.kill();
    }
  });
});

describe('TLS targets', () => {
  test('an https target gets TLS from the server, verified', async () => {
    const { id, token } = await tunnel({ target: { url: `https://localhost:${securePort}/` } });
    const ssh = await forward(sshPort, id, token, `0:127.0.0.1:${securePort}`);
    try {
      const res = await ingress(id);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.body, 'secure hello');
    } finally {
      await ssh.kill();
    }
  });

  test('a certificate that does not name the target host fails the request', async () => {
    const { id, token } = await tunnel({ target: { url: `https://127.0.0.1:${securePort}/` } });
    const ssh = await forward(sshPort, id, token, `0:127.0.0.1:${securePort}`);
    try {
      const res = await ingress(id);
      assert.equal(res.status, 502, res.body);
      assert.equal((await getTunnel(id)).connection.connected, true, 'only the channel failed');
    } finally {
      await ssh.kill();
    }
  });
});

describe('authentication', () => {
  test('a wrong token is refused with the method list', async () => {
    const { id } = await tunnel();
    const ssh = spawnSsh(['-N', `ssh://${id}:wrong-token@127.0.0.1:${sshPort}`]);
    const r = await ssh.waitExit();
    assert.equal(r.code, 255);
    assert.match(ssh.stderr(), /Permission denied \(password\)/);
  });

  test('an unknown tunnel is refused like a wrong token', async () => {
    const ssh = spawnSsh(['-N', `ssh://no-such-tunnel:token@127.0.0.1:${sshPort}`]);
    assert.equal((await ssh.waitExit()).code, 255);
    assert.match(ssh.stderr(), /Permission denied \(password\)/);
  });

  test('a used token cannot connect twice', async () => {
    const { id, token } = await tunnel();
    const first = await forward(sshPort, id, token, `0:127.0.0.1:${targetPort}`);
    await first.kill();
    await waitForState(srv.port, account, id, (c) => !c.connected);
    const again = spawnSsh(['-N', `ssh://${id}:${token}@127.0.0.1:${sshPort}`]);
    assert.equal((await again.waitExit()).code, 255);
    assert.match(again.stderr(), /Permission denied \(password\)/);
    assert.notEqual(await freshToken(id), token, 'the token was rotated');
  });

  test('the banner and identification name exposr', async () => {
    const banner = await new Promise((resolve, reject) => {
      const s = net.connect(sshPort, '127.0.0.1');
      s.setTimeout(5000, () => s.destroy(new Error('no identification string')));
      s.once('data', (d) => { s.destroy(); resolve(d.toString()); });
      s.on('error', reject);
    });
    assert.match(banner, /^SSH-2\.0-exposr\/\S+\r\n/);
  });
});

describe('sessions', () => {
  test('the shell prints the target and ingress URLs; Ctrl-C disconnects', async () => {
    const { id, token } = await tunnel();
    const ssh = spawnSsh(['-tt', `ssh://${id}:${token}@127.0.0.1:${sshPort}`]);
    try {
      await ssh.waitOutput(/HTTP ingress: .*\r\n/, { what: 'the shell output' });
      assert.match(ssh.stdout(), new RegExp(`Target URL: http://127\\.0\\.0\\.1:${targetPort}/\\r\\n`));
      assert.match(ssh.stdout(), new RegExp(`HTTP ingress: http://${id}\\.localhost:${srv.port}/\\r\\n`));
      await waitForState(srv.port, account, id, (c) => c.connected);
      ssh.proc.stdin.write('\x03');
      await ssh.waitExit({ what: 'ssh to end after Ctrl-C' });
      await waitForState(srv.port, account, id, (c) => !c.connected);
    } finally {
      await ssh.kill();
    }
  });

  test('the end of the shell input disconnects', async () => {
    const { id, token } = await tunnel();
    const ssh = spawnSsh(['-T', `ssh://${id}:${token}@127.0.0.1:${sshPort}`]);
    try {
      await ssh.waitOutput(/Target URL: /, { what: 'the shell output' });
      ssh.proc.stdin.end();
      await ssh.waitExit({ what: 'ssh to end after EOF' });
      await waitForState(srv.port, account, id, (c) => !c.connected);
    } finally {
      await ssh.kill();
    }
  });

  test('an API disconnect ends the SSH connection', async () => {
    const { id, token } = await tunnel();
    const ssh = await forward(sshPort, id, token, `0:127.0.0.1:${targetPort}`);
    try {
      const res = await api(srv.port, 'POST', `/v1/tunnel/${id}/disconnect`, { token: account.token });
      assert.equal(res.status, 200, res.body);
      const r = await ssh.waitExit({ what: 'ssh to end after the API disconnect' });
      assert.equal(r.code, 255);
      assert.match(ssh.stderr(), /Received disconnect .*: disconnected through the API/);
    } finally {
      await ssh.kill();
    }
  });
});

describe('revocation and shutdown', () => {
  test('deleting the tunnel ends its SSH connection', async () => {
    const { id, token } = await tunnel();
    const ssh = await forward(sshPort, id, token, `0:127.0.0.1:${targetPort}`);
    try {
      const res = await api(srv.port, 'DELETE', `/v1/tunnel/${id}`, { token: account.token });
      assert.equal(res.status, 204, res.body);
      assert.equal((await ssh.waitExit({ what: 'ssh to end after the tunnel was deleted' })).code, 255);
      assert.match(ssh.stderr(), /Received disconnect .*: tunnel access revoked/);
    } finally {
      await ssh.kill();
    }
  });
});

describe('max-connections', () => {
  test('websocket and SSH connections count together', async () => {
    const { id, token } = await tunnel();
    const first = await forward(sshPort, id, token, `0:127.0.0.1:${targetPort}`);
    let ws;
    try {
      const wsUrl = (await getTunnel(id)).transport.ws.url;
      ws = await connectRaw(wsUrl);
      await waitForState(srv.port, account, id, (c) => c.connections === 2);
      const third = spawnSsh(['-N', `ssh://${id}:${await freshToken(id)}@127.0.0.1:${sshPort}`]);
      const r = await third.waitExit({ what: 'the third connection to be refused' });
      assert.equal(r.code, 255);
      assert.match(third.stderr(), /Received disconnect .*: unable to establish tunnel/);
      assert.equal((await getTunnel(id)).connection.connections, 2);
      // And the other way round: two SSH connections leave no room for a websocket.
      ws.ws.close();
      await waitForState(srv.port, account, id, (c) => c.connections === 1);
      const second = await forward(sshPort, id, await freshToken(id), `0:127.0.0.1:${targetPort}`);
      try {
        const late = await connectRaw((await getTunnel(id)).transport.ws.url);
        const { code, reason } = await late.closed;
        assert.equal(code, 1008);
        assert.equal(reason, 'unable to establish tunnel');
      } finally {
        await second.kill();
      }
    } finally {
      ws?.ws.close();
      await first.kill();
    }
  });
});

describe('host key', () => {
  test('the API reports the fingerprint OpenSSH sees', async () => {
    const { object } = await tunnel();
    const scanned = execFileSync('sh', ['-c',
      `ssh-keyscan -T 5 -p ${sshPort} 127.0.0.1 2>/dev/null | ssh-keygen -lf -`]).toString();
    assert.match(object.transport.ssh.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.ok(scanned.includes(object.transport.ssh.fingerprint), scanned);
    assert.equal(object.transport.ssh.port, sshPort);
    assert.equal(object.transport.ssh.host, '127.0.0.1', 'the API request\'s host');
    assert.equal(object.transport.ssh.enabled, false);
    assert.equal(object.transport.ssh.url,
      `ssh://${object.id}:${object.transport.ssh.password}@127.0.0.1:${sshPort}`);
  });
});

// ---- what a hostile client may send (the ssh2 library, not OpenSSH) -------------------------

function ssh2Connect(id, token) {
  return new Promise((resolve, reject) => {
    const conn = new ssh2.Client();
    conn.on('ready', () => resolve(conn));
    conn.on('error', reject);
    conn.connect({ host: '127.0.0.1', port: sshPort, username: `${id}:${token}`, readyTimeout: 5000 });
  });
}

const settle = (fn) => new Promise((resolve) => fn((err, value) => resolve({ err, value })));

function withDeadline(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  })]).finally(() => clearTimeout(t));
}

describe('bad input', () => {
  test('garbage instead of a version string is dropped; the server goes on', async () => {
    // The server closes with our bytes unread, so the kernel may reset the connection
    // before its identification string is read: only the end is certain.
    const ended = await new Promise((resolve, reject) => {
      const s = net.connect(sshPort, '127.0.0.1');
      s.setTimeout(10000, () => s.destroy(new Error('the server kept the garbage connection open')));
      s.on('connect', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n' + 'x'.repeat(70000) + '\r\n'));
      s.on('data', () => {});
      s.on('error', (e) => (e.code === 'ECONNRESET' ? resolve('reset') : reject(e)));
      s.on('close', () => resolve('closed'));
    });
    assert.ok(ended === 'reset' || ended === 'closed');
    const { id, token } = await tunnel();
    const ssh = await forward(sshPort, id, token, `0:127.0.0.1:${targetPort}`);
    assert.equal((await ingress(id)).status, 200);
    await ssh.kill();
  });

  test('10,000 session channels: a few are opened, the rest refused, exec refused', async () => {
    const { id, token } = await tunnel();
    const conn = await ssh2Connect(id, token);
    try {
      const results = await withDeadline(Promise.all(Array.from({ length: 10000 },
        () => settle((cb) => conn.exec('true', cb)))), 60000, '10,000 channel answers');
      const refusedExec = results.filter((r) => /Unable to exec/.test(r.err?.message));
      const refusedOpen = results.filter((r) => /open failure/i.test(r.err?.message));
      assert.equal(refusedExec.length, 8, 'the sessions the server accepts refuse exec');
      assert.equal(refusedOpen.length, 10000 - 8);
      // The connection is still healthy: a forward and a request through it.
      const { err, value } = await settle((cb) => conn.forwardIn('127.0.0.1', 0, cb));
      assert.equal(err, undefined);
      assert.equal(value, targetPort);
    } finally {
      conn.end();
    }
  });

  test('tcpip-forward for port 70000, cancel-tcpip-forward and subsystem are refused', async () => {
    const { id, token } = await tunnel();
    const conn = await ssh2Connect(id, token);
    try {
      // libssh 0.10 reads the port into 16 bits, so 70000 reaches the server as 4464
      // (a port the owner may ask for anyway): never is an invalid port stored.
      const big = await settle((cb) => conn.forwardIn('example.test', 70000, cb));
      const url = (await getTunnel(id)).target.url;
      assert.doesNotMatch(url, /70000/);
      assert.ok(big.err !== undefined || url === 'http://example.test:4464/', url);
      const cancel = await settle((cb) => conn.unforwardIn('127.0.0.1', targetPort, cb));
      assert.match(cancel.err?.message ?? '', /Unable to unbind/);
      const sub = await settle((cb) => conn.subsys('sftp', cb));
      assert.match(sub.err?.message ?? '', /Unable to start subsystem/);
      const ok = await settle((cb) => conn.forwardIn('localhost', 0, cb));
      assert.equal(ok.value, 4464, 'the connection survived all of it');
    } finally {
      conn.end();
    }
  });

  test('a forwarded channel the client refuses gives 502, the tunnel stays', async () => {
    const { id, token } = await tunnel();
    const conn = await ssh2Connect(id, token);
    try {
      conn.on('tcp connection', (info, accept, reject) => reject());
      const { value } = await settle((cb) => conn.forwardIn('localhost', 0, cb));
      assert.equal(value, targetPort);
      const res = await ingress(id);
      assert.equal(res.status, 502, res.body);
      assert.equal((await getTunnel(id)).connection.connected, true);
    } finally {
      conn.end();
    }
  });
});

describe('the originator of a forwarded channel (docs/ssh.md §7.4)', () => {
  test('names the public client\'s address and port', async () => {
    const { id, token } = await tunnel();
    const conn = await ssh2Connect(id, token);
    try {
      const channelInfo = new Promise((resolve) => {
        conn.on('tcp connection', (info, accept) => {
          const ch = accept();
          ch.on('data', () => {});
          ch.end('HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\norigin');
          resolve(info);
        });
      });
      const { value } = await settle((cb) => conn.forwardIn('localhost', 0, cb));
      assert.equal(value, targetPort);
      const client = net.connect(srv.port, '127.0.0.1');
      await new Promise((resolve, reject) => client.on('connect', resolve).on('error', reject));
      const answer = new Promise((resolve, reject) => {
        let text = '';
        client.setTimeout(30000, () => client.destroy(new Error('no answer through the channel')));
        client.on('data', (c) => { text += c; });
        client.on('end', () => resolve(text));
        client.on('error', reject);
      });
      client.write(`GET / HTTP/1.1\r\nHost: ${id}.localhost:${srv.port}\r\nConnection: close\r\n\r\n`);
      const info = await withDeadline(channelInfo, 30000, 'the forwarded-tcpip channel');
      assert.ok(client.localPort > 0);
      assert.deepEqual(
        { srcIP: info.srcIP, srcPort: info.srcPort, destIP: info.destIP, destPort: info.destPort },
        { srcIP: '127.0.0.1', srcPort: client.localPort, destIP: 'localhost', destPort: targetPort });
      assert.match(await answer, /^HTTP\/1\.1 200 [^]*\r\n\r\norigin$/);
    } finally {
      conn.end();
    }
  });
});

// ---- a second server: fast keep-alives, restarts, key settings ------------------------------

describe('keep-alive and the host key across restarts', () => {
  let dir;
  let port;
  let sshPortB;
  const keyFile = () => path.join(dir, 'host-key');
  const configB = (p, keySetting = { 'key-file': keyFile() }) => ({
    log: { level: 'warn' },
    http: { bind: '127.0.0.1' },
    modules: {
      'storage-memory': {},
      'api-v1': { port: p, 'allow-registration': true },
      'ingress-http': { url: `http://localhost:${p}`, port: p },
      'transport-ssh': {
        port: sshPortB,
        bind: '127.0.0.1',
        // Three silent intervals (3 s) drop a client: wide enough that a live ssh on a
        // busy machine always answers in time.
        'keepalive-interval': 1000,
        'login-timeout': 500,
        'allow-insecure-target': true,
        ...keySetting,
      },
    },
  });
  async function fingerprintOf(server) {
    const acc = await newAccount(server.port);
    const t = await newTunnel(server.port, acc, 'fingerprint', {});
    return t.transport.ssh.fingerprint;
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposrd-ssh-b-'));
    port = await freePort();
    sshPortB = await freePort();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('keep-alives hold a live client; a silent one is dropped after 3 intervals', async () => {
    // The reason of the drop is logged at info. It shows that the keep-alive, not another
    // check, ended the connection; a lower bound on the time would only measure the load.
    const b = await startExposrd({ config: (p) => ({ ...configB(p), log: { level: 'info' } }), port });
    try {
      const acc = await newAccount(port);
      const t = await newTunnel(port, acc, 'keepalive', { target: { url: `http://127.0.0.1:${targetPort}/` } });
      const ssh = await forward(sshPortB, 'keepalive', t.transport.ssh.password, `0:127.0.0.1:${targetPort}`);
      const dropped = /tunnel keepalive: SSH connection from 127\.0\.0\.1 closed: keep-alive timeout/;
      try {
        // Four intervals, more than the three that drop a silent client: one that answers
        // the keep-alives stays.
        await new Promise((r) => setTimeout(r, 4000));
        assert.equal(ssh.proc.exitCode, null, `ssh exited:\n${ssh.stderr()}\nexposrd:\n${b.stderr()}`);
        await waitForState(port, acc, 'keepalive', (c) => c.connected, 1000);
        assert.doesNotMatch(b.stderr(), dropped);
        ssh.proc.kill('SIGSTOP');
        await waitForState(port, acc, 'keepalive', (c) => !c.connected, 10000);
        await waitFor(() => dropped.test(b.stderr()), { what: 'the keep-alive timeout in the log', timeout: 2000 });
      } finally {
        ssh.proc.kill('SIGCONT');
        await ssh.kill();
      }
    } finally {
      assert.equal((await b.stop()).code, 0);
    }
  });

  test('a server shutting down ends its SSH connections and exits cleanly', async () => {
    const b = await startExposrd({ config: configB, port });
    let ssh;
    try {
      const acc = await newAccount(port);
      const t = await newTunnel(port, acc, 'shutdown', { target: { url: `http://127.0.0.1:${targetPort}/` } });
      ssh = await forward(sshPortB, 'shutdown', t.transport.ssh.password, `0:127.0.0.1:${targetPort}`);
    } finally {
      const r = await b.stop();
      assert.equal(r.code, 0, r.stderr);
    }
    try {
      assert.equal((await ssh.waitExit({ what: 'ssh to end with the server' })).code, 255);
      assert.match(ssh.stderr(), /Received disconnect .*: server shutting down/);
    } finally {
      await ssh.kill();
    }
  });

  test('a client that does not authenticate in time is disconnected', async () => {
    const b = await startExposrd({ config: configB, port });
    try {
      const started = Date.now();
      const outcome = await new Promise((resolve, reject) => {
        const s = net.connect(sshPortB, '127.0.0.1');
        s.setTimeout(10000, () => s.destroy(new Error('the idle client was never disconnected')));
        s.on('connect', () => s.write('SSH-2.0-idle\r\n'));
        s.on('data', () => {});
        s.on('error', (e) => (e.code === 'ECONNRESET' ? resolve('reset') : reject(e)));
        s.on('close', () => resolve('closed'));
      });
      assert.ok(outcome === 'closed' || outcome === 'reset');
      assert.ok(Date.now() - started >= 400, 'not before the login timeout');
    } finally {
      assert.equal((await b.stop()).code, 0);
    }
  });

  test('allow-insecure-target accepts a certificate for another name', async () => {
    const b = await startExposrd({ config: configB, port });
    try {
      const acc = await newAccount(port);
      const t = await newTunnel(port, acc, 'insecure', {
        target: { url: `https://127.0.0.1:${securePort}/` }, ingress: { http: { enabled: true } },
      });
      const ssh = await forward(sshPortB, 'insecure', t.transport.ssh.password, `0:127.0.0.1:${securePort}`);
      try {
        const res = await request(port, { headers: { Host: `insecure.localhost:${port}` } });
        assert.equal(res.status, 200, res.body);
        assert.equal(res.body, 'secure hello');
      } finally {
        await ssh.kill();
      }
    } finally {
      assert.equal((await b.stop()).code, 0);
    }
  });

  test('the generated key is kept: same fingerprint after a restart, and as `key` in base64', async () => {
    const first = await startExposrd({ config: configB, port });
    const fp = await fingerprintOf(first);
    assert.equal((await first.stop()).code, 0);
    assert.equal(fs.statSync(keyFile()).mode & 0o777, 0o600);
    const again = await startExposrd({ config: configB, port });
    assert.equal(await fingerprintOf(again), fp);
    assert.equal((await again.stop()).code, 0);
    const b64 = fs.readFileSync(keyFile()).toString('base64');
    const fromSetting = await startExposrd({ config: (p) => configB(p, { key: b64 }), port });
    assert.equal(await fingerprintOf(fromSetting), fp);
    assert.equal((await fromSetting.stop()).code, 0);
  });

  test('`host` sets the host and port handed out in the API', async () => {
    const b = await startExposrd({ config: (p) => configB(p, { 'key-file': keyFile(), host: 'ssh.example.com:22' }), port });
    try {
      const acc = await newAccount(port);
      const t = await newTunnel(port, acc, 'handed-out', {});
      const { host, port: sshp, username, password, url } = t.transport.ssh;
      assert.deepEqual({ host, port: sshp, username }, { host: 'ssh.example.com', port: 22, username: 'handed-out' });
      assert.equal(url, `ssh://handed-out:${password}@ssh.example.com:22`);
    } finally {
      assert.equal((await b.stop()).code, 0);
    }
    const bad = startExposrd({ config: (p) => configB(p, { 'key-file': keyFile(), host: 'two words:22' }), port });
    await assert.rejects(bad, /expected host\[:port\], got "two words:22"/);
  });

  test('a key setting that is no key stops the start with a reason', async () => {
    const bad = startExposrd({ config: (p) => configB(p, { key: 'not-a-key' }), port });
    await assert.rejects(bad, /neither a readable key file, nor a private key, nor base64 of one/);
  });
});

// ---- a cluster: the SSH connection on one node, the request on the other --------------------

describe('two nodes on one Redis', { timeout: 120000 }, () => {
  const HOSTS = ['127.0.0.1', '127.0.0.2'];
  let redis;
  const nodes = [];
  let port;
  let sshPortC;

  before(async () => {
    redis = await startRedis();
    port = await freePort();
    sshPortC = await freePort();
    for (const host of HOSTS) {
      nodes.push(await startExposrd({
        port,
        host,
        config: {
          log: { level: 'warn' },
          http: { bind: host },
          modules: {
            'storage-redis': { url: redis.url },
            'cluster-redis': { url: redis.url },
            'api-v1': { port, 'allow-registration': true },
            'ingress-http': { port, url: `http://cluster.test:${port}` },
            'transport-ssh': { port: sshPortC, bind: host, key: fs.readFileSync(path.join(keyDir, 'host-key')).toString() },
          },
        },
      }));
    }
  });

  after(async () => {
    for (const n of nodes) assert.equal((await n.stop()).code, 0);
    await redis?.remove();
  });

  test('a request to the other node is re-routed to the SSH-connected tunnel', async () => {
    const reg = await api(port, 'POST', '/v1/account');
    const tok = await api(port, 'GET', `/v1/account/${reg.json.account_id}/token`);
    const acc = { token: tok.json.token };
    const t = await newTunnel(port, acc, 'clustered', {
      target: { url: `http://127.0.0.1:${targetPort}/` }, ingress: { http: { enabled: true } },
    });
    const ssh = await forward(sshPortC, 'clustered', t.transport.ssh.password, `0:127.0.0.1:${targetPort}`);
    try {
      const viaOther = () => new Promise((resolve, reject) => {
        const req = http.request({ host: HOSTS[1], port, path: '/blob', agent: false,
          headers: { Host: `clustered.cluster.test:${port}` } }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
        });
        req.setTimeout(20000, () => req.destroy(new Error('GET via the second node timed out')));
        req.on('error', reject);
        req.end();
      });
      // The second node learns the first from its heartbeat (every 2 s).
      const res = await waitFor(async () => {
        const r = await viaOther();
        return r.status === 200 ? r : false;
      }, { timeout: 20000, interval: 200, what: 'the second node to re-route to the first' });
      assert.equal(sha(res.body), sha(BLOB));
      const state = await api(port, 'GET', '/v1/tunnel/clustered', { token: acc.token, host: HOSTS[1] });
      assert.equal(state.json.connection.connected, true);
      assert.equal(state.json.transport.ssh.fingerprint, t.transport.ssh.fingerprint, 'one key for the cluster');
    } finally {
      await ssh.kill();
    }
  });

  test('max-connections holds across the nodes', async () => {
    const reg = await api(port, 'POST', '/v1/account');
    const tok = await api(port, 'GET', `/v1/account/${reg.json.account_id}/token`);
    const acc = { token: tok.json.token };
    await newTunnel(port, acc, 'limited', { target: { url: `http://127.0.0.1:${targetPort}/` } });
    const token = async () => (await api(port, 'GET', '/v1/tunnel/limited', { token: acc.token })).json.transport.ssh.password;
    const held = [];
    try {
      for (let i = 0; i < 2; i++) held.push(await forward(sshPortC, 'limited', await token(), `0:127.0.0.1:${targetPort}`));
      // The other node learns of both (tunnel state messages) before it is asked.
      await waitFor(async () => {
        const r = await api(port, 'GET', '/v1/tunnel/limited', { token: acc.token, host: HOSTS[1] });
        return r.json.connection.connections === 2;
      }, { what: 'the second node to see two connections' });
      const third = spawnSsh(['-N', '-p', String(sshPortC), `limited:${await token()}@${HOSTS[1]}`]);
      assert.equal((await third.waitExit({ what: 'the third connection to be refused' })).code, 255);
      assert.doesNotMatch(third.stderr(), /Permission denied/, 'authorised, then refused for the limit');
      assert.match(third.stderr(), /Received disconnect .*: unable to establish tunnel/);
    } finally {
      for (const h of held) await h.kill();
    }
  });
});
