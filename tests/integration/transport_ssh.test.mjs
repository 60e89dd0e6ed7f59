// The SSH transport (protocol.md §7) with stock OpenSSH on loopback: forwarding through
// the HTTP ingress, both authentication forms, the target rule of tcpip-forward, sessions,
// disconnects, max-connections shared with websockets, the persisted host key, and what a
// hostile client (the ssh2 library) may send.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import ssh2 from 'ssh2';

import { api, newAccount, newTunnel, waitForState } from './lib/api.mjs';
import { freePort, readMetrics, request, startExposrd, waitFor } from './lib/exposrd.mjs';
import { connectRaw } from './lib/rawmux.mjs';
import { forward, spawnSsh } from './lib/ssh.mjs';

const MiB = 1024 * 1024;
const BLOB = crypto.randomBytes(10 * MiB);
const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// The target behind the tunnels: GET / says hello, GET /blob serves BLOB, POST echoes.
function startTarget() {
  const server = http.createServer((req, res) => {
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
  srv = await startExposrd({ config: (port) => config(port), waitPort: undefined });
  await waitFor(() => new Promise((resolve) => {
    const s = net.connect(sshPort, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }), { what: 'the SSH port to listen' });
  target = await startTarget();
  targetPort = target.address().port;
  account = await newAccount(srv.port);
});

after(async () => {
  target?.close();
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
