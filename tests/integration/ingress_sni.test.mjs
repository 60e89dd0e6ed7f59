// The SNI ingress (docs/ingress.md §6): TLS ended with a wildcard certificate the test makes with
// openssl, the tunnel named by the first label of the server name, the plain bytes carried
// through a channel; refusals without an alert, certificate rotation, start-up errors,
// session resumption, ALPN, a flood of half-open handshakes, and re-routing in a cluster.
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import ssh2 from 'ssh2';

import { TunnelClient, apiCall } from './lib/client.mjs';
import { baseConfig, freePort, readMetrics, runExposrd, startExposrd, waitFor, withDeadline } from './lib/exposrd.mjs';
import { startRedis } from './lib/redis.mjs';

const DOMAIN = 'example.test';
const MiB = 1024 * 1024;

// ---- certificates ---------------------------------------------------------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposrd-sni-'));
const file = (name) => path.join(dir, name);

function openssl(...args) {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

// A key, and a certificate for `cn` / `san` signed by the test CA.
function issue(name, cn, san) {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-subj', `/CN=${cn}`,
    '-out', file(`${name}.csr`));
  fs.writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\n`);
  openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
    '-set_serial', `0x${crypto.randomBytes(8).toString('hex')}`, '-days', '2', '-extfile', file(`${name}.ext`),
    '-out', file(`${name}.pem`));
}

openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-subj', '/CN=exposrd test CA',
  '-days', '2', '-out', file('ca.pem'));
issue('one', `*.${DOMAIN}`, `DNS:*.${DOMAIN}`);
issue('two', `*.${DOMAIN}`, `DNS:*.${DOMAIN},DNS:${DOMAIN}`);
issue('plain', DOMAIN, `DNS:${DOMAIN},DNS:www.${DOMAIN}`);
const CA = fs.readFileSync(file('ca.pem'));
const fingerprint = (name) => new crypto.X509Certificate(fs.readFileSync(file(`${name}.pem`))).fingerprint256;

// ---- targets ----------------------------------------------------------------------------------

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
}

const httpTarget = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello from ${req.url}`);
});
const echoSockets = new Set();
const echoTarget = net.createServer((sock) => {
  echoSockets.add(sock);
  sock.on('close', () => echoSockets.delete(sock));
  sock.on('error', () => {});
  sock.pipe(sock);
});
// Sends 4 MiB as soon as connected, then ends: the target closes first.
const BLAST = crypto.randomBytes(4 * MiB);
const blastTarget = net.createServer((sock) => {
  sock.on('error', () => {});
  sock.end(BLAST);
});
let httpPort, echoPort, blastPort;

before(async () => {
  httpPort = await listen(httpTarget);
  echoPort = await listen(echoTarget);
  blastPort = await listen(blastTarget);
});

after(async () => {
  httpTarget.closeAllConnections();
  for (const sock of echoSockets) sock.destroy();
  await Promise.all([httpTarget, echoTarget, blastTarget].map((t) => new Promise((r) => t.close(r))));
  fs.rmSync(dir, { recursive: true, force: true });
});

// ---- TLS clients ------------------------------------------------------------------------------

function connectTls(port, servername, options = {}) {
  return tls.connect({ host: '127.0.0.1', port, servername, ca: CA, ...options });
}

// Resolves with the connected socket, or rejects with the handshake's error.
function handshake(port, servername, options = {}) {
  return new Promise((resolve, reject) => {
    const s = connectTls(port, servername, options);
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`handshake with ${servername} hung`)); }, 10000);
    s.once('secureConnect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

// The error of a handshake the server ends by closing the TCP connection.
async function refusedHandshake(port, servername) {
  const err = await handshake(port, servername).then((s) => { s.destroy(); return null; }, (e) => e);
  assert.ok(err, `the handshake for ${servername} succeeded`);
  // An alert would say ERR_SSL_*; a closed connection is a reset or an early end.
  assert.ok(err.code === 'ECONNRESET' || /before secure TLS connection was established/.test(err.message),
    `not a bare close: ${err.code} ${err.message}`);
}

// Sends `size` bytes through `sock` and hashes what comes back.
async function echoThrough(sock, size) {
  const block = crypto.randomBytes(64 * 1024);
  const sent = crypto.createHash('sha256');
  const got = crypto.createHash('sha256');
  let received = 0;
  const done = new Promise((resolve, reject) => {
    sock.on('data', (d) => { got.update(d); received += d.length; if (received >= size) resolve(); });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`closed after ${received} of ${size} bytes`)));
  });
  for (let off = 0; off < size; off += block.length) {
    const piece = block.subarray(0, Math.min(block.length, size - off));
    sent.update(piece);
    if (!sock.write(piece)) await once(sock, 'drain');
  }
  await done;
  assert.equal(received, size);
  assert.equal(got.digest('hex'), sent.digest('hex'), 'the echo changed the bytes');
}

function curl(args) {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '20', ...args], (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

// ---- one node ---------------------------------------------------------------------------------

function sniConfig(port, sniPort, extra = {}) {
  return baseConfig(port, {
    modules: {
      'transport-ws': { port },
      'ingress-sni': { port: sniPort, bind: '127.0.0.1', cert: file('live.pem'), key: file('live.key'),
        'reload-interval': 1, ...extra },
    },
  });
}

async function sniTunnel(port, target, { enable = true, connect = true } = {}) {
  const client = await TunnelClient.create({ port, target, ingressHttp: false });
  if (enable) {
    const r = await client.api('PATCH', `/v1/tunnel/${client.id}`, { ingress: { sni: { enabled: true } } });
    assert.equal(r.status, 200, r.body);
  }
  if (connect) await client.connect();
  return client;
}

describe('one node with the SNI ingress', { timeout: 180000 }, () => {
  let node, port, sniPort, adminPort;
  const clients = [];

  before(async () => {
    fs.copyFileSync(file('one.pem'), file('live.pem'));
    fs.copyFileSync(file('one.key'), file('live.key'));
    sniPort = await freePort();
    adminPort = await freePort();
    node = await startExposrd({
      config: (p) => {
        const c = sniConfig(p, sniPort, { alpn: ['http/1.1'] });
        c.modules.admin = { port: adminPort };
        return c;
      },
    });
    port = node.port;
  });

  after(async () => {
    for (const c of clients) await c.stop().catch(() => {});
    if (node) await node.stop();
  });

  test('PATCH enables the SNI ingress and the API shows its tcps URL (§2.7)', async () => {
    const client = await sniTunnel(port, `http://127.0.0.1:${httpPort}/`, { connect: false });
    clients.push(client);
    const t = await client.tunnel();
    assert.deepEqual(t.ingress.sni, {
      enabled: true,
      url: `tcps://${client.id}.${DOMAIN}:${sniPort}`,
      urls: [`tcps://${client.id}.${DOMAIN}:${sniPort}`],
    });
    const off = await client.api('PATCH', `/v1/tunnel/${client.id}`, { ingress: { sni: { enabled: false } } });
    assert.equal(off.status, 200);
    assert.deepEqual(off.json.ingress.sni, {}, 'a disabled ingress shows an empty block');
  });

  test('curl reaches a plain HTTP target through the tunnel', async () => {
    const client = await sniTunnel(port, `http://127.0.0.1:${httpPort}/`);
    clients.push(client);
    const host = `${client.id}.${DOMAIN}`;
    const r = await curl(['--resolve', `${host}:${sniPort}:127.0.0.1`, '--cacert', file('ca.pem'),
      '--write-out', '\n%{http_code}', `https://${host}:${sniPort}/curl`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from /curl\n200');
  });

  let echo; // a tunnel to the TCP echo target
  test('10 MiB through a raw TCP echo target keep their SHA-256', async () => {
    echo = await sniTunnel(port, `tcp://127.0.0.1:${echoPort}`);
    clients.push(echo);
    const sock = await handshake(sniPort, `${echo.id}.${DOMAIN}`);
    const t0 = Date.now();
    await echoThrough(sock, 10 * MiB);
    console.log(`# 10 MiB echoed through the SNI ingress in ${Date.now() - t0} ms`);
    sock.end();
  });

  test('a target that sends 4 MiB and closes: every byte arrives, then the end', async () => {
    const blast = await sniTunnel(port, `tcp://127.0.0.1:${blastPort}`);
    clients.push(blast);
    const sock = await handshake(sniPort, `${blast.id}.${DOMAIN}`);
    const chunks = [];
    sock.on('data', (d) => chunks.push(d));
    let timer;
    await Promise.race([once(sock, 'end'),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no end after 20 s')), 20000); })]);
    clearTimeout(timer);
    const got = Buffer.concat(chunks);
    assert.equal(got.length, BLAST.length);
    assert.ok(got.equals(BLAST), 'the bytes changed');
    sock.destroy();
  });

  test('unknown tunnel, SNI disabled, not connected, no SNI: the handshake fails without an alert', async () => {
    const disabled = await sniTunnel(port, `tcp://127.0.0.1:${echoPort}`, { enable: false });
    const offline = await sniTunnel(port, `tcp://127.0.0.1:${echoPort}`, { connect: false });
    clients.push(disabled, offline);
    await refusedHandshake(sniPort, `nosuchtunnel.${DOMAIN}`);
    await refusedHandshake(sniPort, `${disabled.id}.${DOMAIN}`);
    await refusedHandshake(sniPort, `${offline.id}.${DOMAIN}`);
    await refusedHandshake(sniPort, `${echo.id}.other.test`);
    // Node sends no SNI for an IP address.
    await refusedHandshake(sniPort, '');
    const sock = await handshake(sniPort, `${echo.id}.${DOMAIN}`);
    await echoThrough(sock, 1024);
    sock.destroy();
  });

  test('a resumed session skips the full handshake', async () => {
    const name = `${echo.id}.${DOMAIN}`;
    const first = await handshake(sniPort, name);
    const session = await new Promise((resolve) => {
      first.once('session', resolve);
      first.write('x'); // TLS 1.3 tickets come with the first exchange
    });
    first.destroy();
    const second = await handshake(sniPort, name, { session });
    assert.equal(second.isSessionReused(), true);
    await echoThrough(second, 1024);
    second.destroy();
  });

  test('ALPN: the first protocol the client offers that the targets speak', async () => {
    const name = `${echo.id}.${DOMAIN}`;
    const both = await handshake(sniPort, name, { ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(both.alpnProtocol, 'http/1.1');
    both.destroy();
    const h2 = await handshake(sniPort, name, { ALPNProtocols: ['h2'] });
    assert.equal(h2.alpnProtocol, false, 'no protocol agreed, the connection goes on');
    await echoThrough(h2, 1024);
    h2.destroy();
  });

  test('TLS 1.1 is refused', async () => {
    const err = await handshake(sniPort, `${echo.id}.${DOMAIN}`, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT:@SECLEVEL=0' }).then((s) => { s.destroy(); return null; }, (e) => e);
    assert.ok(err, 'a TLS 1.1 handshake succeeded');
    assert.match(`${err.code} ${err.message}`, /version/i);
  });

  test('certificate rotation: open connections go on, new ones see the new certificate', async () => {
    const name = `${echo.id}.${DOMAIN}`;
    const old = await handshake(sniPort, name);
    assert.equal(old.getPeerCertificate().fingerprint256, fingerprint('one'));
    // A broken pair first: logged, and the old one kept.
    fs.writeFileSync(file('live.pem'), 'not a certificate\n');
    await waitFor(() => /keeping the current certificate/.test(node.stderr()),
      { timeout: 10000, what: 'the bad certificate to be reported' });
    const still = await handshake(sniPort, name);
    assert.equal(still.getPeerCertificate().fingerprint256, fingerprint('one'));
    still.destroy();
    fs.copyFileSync(file('two.key'), file('live.key.new'));
    fs.copyFileSync(file('two.pem'), file('live.pem.new'));
    fs.renameSync(file('live.key.new'), file('live.key'));
    fs.renameSync(file('live.pem.new'), file('live.pem'));
    await waitFor(async () => {
      const s = await handshake(sniPort, name);
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      return fp === fingerprint('two');
    }, { timeout: 10000, interval: 200, what: 'new handshakes to get the new certificate' });
    await echoThrough(old, 4 * MiB);
    old.destroy();
  });

  test('/metrics counts the connections in handshake and those spliced', async () => {
    const metrics = () => readMetrics(adminPort);
    // The tests before closed their connections; exposrd counts each out when it sees it go.
    await waitFor(async () => (await metrics()).exposrd_ingress_sni_connections === 0,
      { what: 'the connections of earlier tests to be counted out' });
    const sock = await handshake(sniPort, `${echo.id}.${DOMAIN}`);
    await echoThrough(sock, 10);
    const m = await metrics();
    assert.equal(m.exposrd_ingress_sni_connections, 1);
    assert.equal(m.exposrd_ingress_sni_handshakes, 0);
    sock.destroy();
    await waitFor(async () => (await metrics()).exposrd_ingress_sni_connections === 0,
      { what: 'the spliced connection to be counted out' });
  });
});

// ---- start-up errors ----------------------------------------------------------------------------

describe('start-up', () => {
  async function startFails(cert, key, pattern) {
    const port = await freePort();
    const cfgFile = path.join(dir, `bad-${crypto.randomBytes(4).toString('hex')}.yaml`);
    const cfg = baseConfig(port, { modules: { 'ingress-sni': { port: await freePort(), cert, key } } });
    fs.writeFileSync(cfgFile, JSON.stringify(cfg));
    const r = await runExposrd(['--config', cfgFile]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => pattern.test(l));
    assert.equal(lines.length, 1, `one line saying why:\n${r.stderr}`);
  }

  test('a certificate without a wildcard name: exit 2', async () => {
    await startFails(file('plain.pem'), file('plain.key'), /plain\.pem has no wildcard name \*\.<domain>/);
  });

  test('a key that does not match: exit 2', async () => {
    await startFails(file('one.pem'), file('two.key'), /two\.key does not match certificate .*one\.pem/);
  });

  test('a missing file: exit 2', async () => {
    await startFails(file('none.pem'), file('one.key'), /certificate .*none\.pem: No such file or directory/);
  });

  test('--ingress-sni-host picks the wildcard and the port URLs show', async () => {
    fs.copyFileSync(file('one.pem'), file('live.pem'));
    fs.copyFileSync(file('one.key'), file('live.key'));
    const sniPort = await freePort();
    const node = await startExposrd({
      config: (p) => sniConfig(p, sniPort),
      args: ['--ingress-sni-host', 'Example.TEST:443'],
    });
    try {
      const client = await sniTunnel(node.port, `tcp://127.0.0.1:${echoPort}`, { connect: false });
      assert.equal((await client.tunnel()).ingress.sni.url, `tcps://${client.id}.${DOMAIN}:443`);
    } finally {
      await node.stop();
    }
    const port = await freePort();
    const cfgFile = path.join(dir, 'host.yaml');
    fs.writeFileSync(cfgFile, JSON.stringify(sniConfig(port, await freePort())));
    // A host the certificate has no wildcard for, and a port that is not one.
    const bad = await runExposrd(['--config', cfgFile, '--ingress-sni-host', 'other.test']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /live\.pem has no name \*\.other\.test \(ingress-sni host\)/);
    const badPort = await runExposrd(['--config', cfgFile, '--ingress-sni-host', 'example.test:x']);
    assert.equal(badPort.code, 2, badPort.stderr);
    assert.match(badPort.stderr, /'example\.test:x' is not host\[:port\]/);
  });

  test('no certificate configured: exit 2', async () => {
    const r = await runExposrd(['--ingress', 'sni', '--ingress-sni-port', String(await freePort())]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cert: required: the PEM certificate chain/);
  });
});

// ---- a flood of half-open handshakes --------------------------------------------------------------

function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

describe('1,000 half-open TLS connections', { timeout: 120000 }, () => {
  test('memory stays bounded and the handshake timeout closes them', async () => {
    fs.copyFileSync(file('one.pem'), file('live.pem'));
    fs.copyFileSync(file('one.key'), file('live.key'));
    const sniPort = await freePort();
    const node = await startExposrd({ config: (p) => sniConfig(p, sniPort, { 'handshake-timeout': 2 }) });
    try {
      // The first bytes of a real ClientHello, never finished.
      const partial = Buffer.from([22, 3, 1, 2, 0, 1, 0, 1, 252, 3, 3]);
      const before = rssKiB(node.proc.pid);
      const sockets = [];
      let closed = 0;
      for (let i = 0; i < 1000; i++) {
        const s = net.connect(sniPort, '127.0.0.1');
        s.on('error', () => {});
        s.on('close', () => { closed++; });
        s.on('connect', () => s.write(partial));
        sockets.push(s);
      }
      await waitFor(() => sockets.every((s) => s.bytesWritten > 0 || s.destroyed),
        { timeout: 20000, what: 'every connection to send its partial hello' });
      const during = rssKiB(node.proc.pid);
      console.log(`# RSS ${before} KiB before, ${during} KiB with 1,000 half-open handshakes`);
      assert.ok(during - before < 64 * 1024, `RSS grew by ${during - before} KiB`);
      await waitFor(() => closed === 1000, { timeout: 30000, what: `the server to close them (${closed} closed)` });
      // And it still serves.
      const client = await sniTunnel(node.port, `tcp://127.0.0.1:${echoPort}`);
      const sock = await handshake(sniPort, `${client.id}.${DOMAIN}`);
      await echoThrough(sock, 1024);
      sock.destroy();
      await client.stop();
    } finally {
      await node.stop();
    }
  });
});

describe('the cap on connections in handshake', { timeout: 60000 }, () => {
  test('over max-handshakes a new connection is closed at once; the others are kept', async () => {
    fs.copyFileSync(file('one.pem'), file('live.pem'));
    fs.copyFileSync(file('one.key'), file('live.key'));
    const sniPort = await freePort();
    const node = await startExposrd({
      config: (p) => sniConfig(p, sniPort, { 'max-handshakes': 10, 'handshake-timeout': 60 }),
    });
    const held = [];
    try {
      let heldClosed = 0;
      for (let i = 0; i < 10; i++) {
        const s = net.connect(sniPort, '127.0.0.1');
        s.on('error', () => {});
        s.on('close', () => { heldClosed++; });
        s.on('connect', () => s.write(Buffer.from([22, 3, 1])));
        held.push(s);
      }
      await waitFor(() => held.every((s) => s.bytesWritten > 0), { what: 'ten half-open handshakes' });
      const extra = net.connect(sniPort, '127.0.0.1');
      extra.on('error', () => {});
      await waitFor(() => extra.destroyed, { timeout: 5000, what: 'the eleventh connection to be closed' });
      assert.equal(heldClosed, 0, 'the ten held connections are still open');
      for (const s of held) s.destroy();
      const client = await sniTunnel(node.port, `tcp://127.0.0.1:${echoPort}`);
      await waitFor(async () => {
        const sock = await handshake(sniPort, `${client.id}.${DOMAIN}`).catch(() => null);
        sock?.destroy();
        return sock !== null;
      }, { what: 'a handshake once the held ones went' });
      await client.stop();
    } finally {
      await node.stop();
    }
  });
});

// ---- a cluster ----------------------------------------------------------------------------------

describe('two nodes on one Redis', { timeout: 120000 }, () => {
  const HOSTS = ['127.0.0.1', '127.0.0.2'];
  let redis;
  const nodes = [];
  let client;

  before(async () => {
    fs.copyFileSync(file('one.pem'), file('live.pem'));
    fs.copyFileSync(file('one.key'), file('live.key'));
    redis = await startRedis();
    const port = await freePort();
    const sniPort = await freePort();
    for (const host of HOSTS) {
      nodes.push(await startExposrd({
        port, host, config: {
          log: { level: 'warn' },
          http: { bind: host },
          modules: {
            'storage-redis': { url: redis.url },
            'cluster-redis': { url: redis.url },
            'api-v1': { port, 'allow-registration': true },
            'transport-ws': { port },
            'ingress-sni': { port: sniPort, bind: host, cert: file('live.pem'), key: file('live.key') },
          },
        },
      }));
    }
    nodes.sniPort = sniPort;
  });

  after(async () => {
    if (client) await client.stop().catch(() => {});
    for (const n of nodes) await n.stop();
    if (redis) await redis.remove();
  });

  test('node 2 carries an SNI connection to node 1, which holds the tunnel (§8.6)', async () => {
    client = await TunnelClient.create({ port: nodes[0].port, host: HOSTS[0], target: `tcp://127.0.0.1:${echoPort}`,
      ingressHttp: false });
    const r = await client.api('PATCH', `/v1/tunnel/${client.id}`, { ingress: { sni: { enabled: true } } });
    assert.equal(r.status, 200, r.body);
    await client.connect();
    await waitFor(async () => {
      const t = await apiCall(nodes[1].port, 'GET', `/v1/tunnel/${client.id}`, { token: client.token, host: HOSTS[1] });
      return t.json?.connection?.connected === true;
    }, { timeout: 15000, what: 'node 2 to learn the tunnel is connected on node 1' });
    const name = `${client.id}.${DOMAIN}`;
    const sock = await new Promise((resolve, reject) => {
      const s = tls.connect({ host: HOSTS[1], port: nodes.sniPort, servername: name, ca: CA });
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    });
    await echoThrough(sock, 2 * MiB);
    sock.destroy();
  });
});


// ---- the SSH transport behind the SNI ingress -------------------------------------------------

describe('an SNI connection over an SSH tunnel', { timeout: 60000 }, () => {
  let node, sniPort, sshPort;

  before(async () => {
    sniPort = await freePort();
    sshPort = await freePort();
    node = await startExposrd({
      config: (p) => {
        const c = sniConfig(p, sniPort);
        c.modules['transport-ssh'] = { port: sshPort, bind: '127.0.0.1', 'key-file': file('ssh-host-key') };
        return c;
      },
    });
    await waitFor(() => new Promise((resolve) => {
      const s = net.connect(sshPort, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    }), { what: 'the SSH port to listen' });
  });

  after(async () => {
    if (node) await node.stop();
  });

  test('the forwarded-tcpip channel names the TLS client as originator (docs/ssh.md §7.4)', async () => {
    const client = await sniTunnel(node.port, `tcp://127.0.0.1:${echoPort}`, { connect: false });
    const password = (await client.tunnel()).transport.ssh.password;
    const conn = new ssh2.Client();
    await new Promise((resolve, reject) => {
      conn.on('ready', resolve).on('error', reject);
      conn.connect({ host: '127.0.0.1', port: sshPort, username: `${client.id}:${password}`, readyTimeout: 5000 });
    });
    let sock;
    try {
      const channelInfo = new Promise((resolve) => {
        conn.on('tcp connection', (info, accept) => {
          const ch = accept();
          ch.on('data', () => {});
          ch.end('origin');
          resolve(info);
        });
      });
      const bound = await new Promise((resolve, reject) =>
        conn.forwardIn('localhost', 0, (err, p) => (err ? reject(err) : resolve(p))));
      assert.equal(bound, echoPort);
      sock = await handshake(sniPort, `${client.id}.${DOMAIN}`);
      const answer = new Promise((resolve, reject) => {
        let text = '';
        sock.on('data', (d) => { text += d; });
        sock.on('end', () => resolve(text));
        sock.on('error', reject);
      });
      const info = await withDeadline(channelInfo, 20000, 'the forwarded-tcpip channel');
      assert.ok(sock.localPort > 0);
      assert.deepEqual({ srcIP: info.srcIP, srcPort: info.srcPort }, { srcIP: '127.0.0.1', srcPort: sock.localPort });
      assert.equal(await withDeadline(answer, 20000, 'the end of the answer'), 'origin');
    } finally {
      sock?.destroy();
      conn.end();
      await client.stop().catch(() => {});
    }
  });
});
