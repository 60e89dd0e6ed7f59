// The HTTP ingress (docs/ingress.md §5, checklist §12 items 37-47): the real exposrd, the
// Node tunnel client (ws-multiplex, as exposr 0.10) and local targets (node:http, ws).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { WebSocketServer } from 'ws';
import { freePort, rawRequest, readMetrics, runExposrd, startExposrd, tunnelConfig, waitFor, writeConfig } from './lib/exposrd.mjs';
import { TunnelClient, apiCall, spawnClient } from './lib/client.mjs';
import { startDnsServer } from './lib/api.mjs';
import { onceWithin, withDeadline } from './lib/deadline.mjs';

const MiB = 1024 * 1024;
const PAUSE = 5; // multiplex message type (docs/transport.md §4.6)

const config = (port) => tunnelConfig(port);

// --- Deterministic bodies of any size, hashed on both ends -------------------------------

const BLOCK = crypto.randomBytes(64 * 1024);

function* pieces(size) {
  for (let off = 0; off < size; off += BLOCK.length) yield BLOCK.subarray(0, Math.min(BLOCK.length, size - off));
}

function shaOf(size) {
  const h = crypto.createHash('sha256');
  for (const p of pieces(size)) h.update(p);
  return h.digest('hex');
}

// Resolves when `w` can take more, or is gone.
function drained(w) {
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
  });
}

// Writes `size` bytes with back-pressure; false if the stream went away first.
async function writeBody(w, size, end = true) {
  for (const p of pieces(size)) {
    if (w.destroyed) return false;
    if (!w.write(p)) await drained(w);
  }
  if (end && !w.destroyed) w.end();
  return !w.destroyed;
}

// --- The target behind the tunnels ------------------------------------------------------

const targetSeen = { upgrade: null, slowReadPauses: 0 };

async function readBody(req) {
  const h = crypto.createHash('sha256');
  let length = 0;
  for await (const chunk of req) { h.update(chunk); length += chunk.length; }
  return { length, sha256: h.digest('hex') };
}

function json(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function serveTarget(req, res) {
  const url = new URL(req.url, 'http://target');
  const size = Number(url.searchParams.get('size') ?? 0);
  switch (url.pathname) {
    case '/echo': {
      const body = await readBody(req);
      json(res, 200, { method: req.method, url: req.url, headers: req.headers, ...body,
        remotePort: req.socket.remotePort });
      return;
    }
    case '/data': {
      // POST: the request body's hash comes back in a header, `size` bytes follow.
      const got = await readBody(req);
      const headers = { 'x-request-length': got.length, 'x-request-sha256': got.sha256 };
      if (url.searchParams.get('chunked') !== '1') headers['Content-Length'] = size;
      res.writeHead(200, headers);
      if (req.method === 'HEAD') { res.end(); return; }
      await writeBody(res, size);
      return;
    }
    case '/chunked': {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      for (let i = 0; i < 5; i++) {
        res.write(`chunk ${i};`);
        await sleep(20);
      }
      res.end('end');
      return;
    }
    case '/stall': {
      await readBody(req);
      const ms = Number(url.searchParams.get('ms') ?? 1000);
      res.writeHead(200, { 'Content-Length': 2000 });
      res.write(Buffer.alloc(1000, 'a'));
      await sleep(ms);
      res.end(Buffer.alloc(1000, 'b'));
      return;
    }
    case '/reset-mid': {
      res.writeHead(200, { 'Content-Length': 100000 });
      res.write(Buffer.alloc(50000, 'r'));
      setTimeout(() => req.socket.resetAndDestroy(), 100);
      return;
    }
    case '/reset-early':
      req.socket.resetAndDestroy();
      return;
    case '/huge': {
      res.writeHead(200, { 'Content-Length': 1024 * MiB });
      await writeBody(res, 1024 * MiB);
      return;
    }
    case '/slow-read': {
      // Takes 64 KiB every 50 ms: the tunnel client's buffer towards us fills.
      const h = crypto.createHash('sha256');
      let length = 0;
      req.on('data', (chunk) => {
        h.update(chunk);
        length += chunk.length;
        req.pause();
        setTimeout(() => req.resume(), 50);
      });
      await onceWithin(req, 'end');
      json(res, 200, { length, sha256: h.digest('hex') });
      return;
    }
    default:
      json(res, 404, { error: 'no such target path' });
  }
}

function startTarget() {
  const server = http.createServer((req, res) => {
    serveTarget(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 60000;
  const wss = new WebSocketServer({ server, maxPayload: 64 * MiB });
  wss.on('connection', (ws, req) => {
    targetSeen.upgrade = req.headers;
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// --- Public requests through the ingress ------------------------------------------------

let srv;
let target;
let targetUrl;
let tunnel; // connected, HTTP ingress enabled, target = the local target
const clients = [];

function hostOf(id, port = srv.port) {
  return `${id}.localhost:${port}`;
}

// A request on the ingress port; resolves with { status, headers, body (Buffer), json }.
// `send(req)` writes the body (default: none); `onResponse(res)` may watch the response.
function ingress(id, { method = 'GET', path = '/echo', headers = {}, send, agent = false,
  timeout = 60000, port = srv.port } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, timeout,
      headers: { Host: hostOf(id, port), ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let parsed;
        try { parsed = JSON.parse(body.toString('utf8')); } catch { parsed = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body, json: parsed,
          socket: req.socket, reused: req.reusedSocket });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (send) send(req).catch(reject); else req.end();
  });
}

async function newClient(opts = {}) {
  const client = await TunnelClient.create({ port: srv.port, target: targetUrl, retryDelay: 200, ...opts });
  clients.push(client);
  return client;
}

async function connectedClient(opts = {}) {
  const client = await newClient(opts);
  await client.connect();
  return client;
}

before(async () => {
  srv = await startExposrd({ config: (port) => config(port) });
  target = await startTarget();
  targetUrl = `http://127.0.0.1:${target.address().port}/`;
  tunnel = await connectedClient();
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.stop()));
  target.closeAllConnections();
  target.close();
  const r = await srv.stop();
  assert.equal(r.code, 0, `exposrd exit ${r.code} ${r.signal}:\n${r.stderr}`);
});

function assertJsonError(r, status, code) {
  assert.equal(r.status, status, r.body.toString());
  assert.match(r.headers['content-type'] ?? '', /^application\/json/);
  assert.deepEqual(r.json, { error: code });
}

test('the ingress refuses to start without its URL, naming the setting', async () => {
  const file = writeConfig({ modules: { 'storage-memory': {}, 'ingress-http': { port: await freePort() } } });
  try {
    const r = await runExposrd(['--config', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /modules\.ingress-http\.url: required.*--ingress-http-url/);
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

// --- §12 items 37-47 -------------------------------------------------------------------

test('37: an unknown tunnel under the ingress domain is 404 TUNNEL_NOT_FOUND', async () => {
  assertJsonError(await ingress('no-such-tunnel'), 404, 'TUNNEL_NOT_FOUND');
});

test('38: not connected is 503 TUNNEL_NOT_CONNECTED; ingress disabled is 403', async () => {
  const idle = await newClient();
  assertJsonError(await ingress(idle.id), 503, 'TUNNEL_NOT_CONNECTED');
  const disabled = await connectedClient({ ingressHttp: false });
  assertJsonError(await ingress(disabled.id), 403, 'TUNNEL_HTTP_INGRESS_DISABLED');
});

test('39: the target sees the forwarding headers', async () => {
  const r = await ingress(tunnel.id);
  assert.equal(r.status, 200);
  const h = r.json.headers;
  const host = hostOf(tunnel.id);
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
  assert.equal(h['x-real-ip'], '127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-host'], host);
  assert.equal(h['x-forwarded-port'], String(srv.port));
  assert.equal(h.forwarded, `by=_exposr;for=127.0.0.1;host=${host};proto=http`);
  assert.match(h['exposr-via'], /^[0-9a-f]{40}$/);
  assert.equal(h.host, `127.0.0.1:${target.address().port}`, 'Host follows the http target');
  assert.equal(h.connection, undefined, 'the client\'s Connection is not passed on');
});

test('40: an incoming X-Forwarded-For and X-Forwarded-Proto are honoured, not appended to', async () => {
  const r = await ingress(tunnel.id, {
    headers: { 'X-Forwarded-For': '127.0.0.3, 10.0.0.1', 'X-Forwarded-Proto': 'https', 'X-Real-IP': '10.1.1.1' },
  });
  const h = r.json.headers;
  assert.equal(h['x-forwarded-for'], '127.0.0.3');
  assert.equal(h['x-real-ip'], '127.0.0.3');
  assert.equal(h['x-forwarded-proto'], 'https');
  assert.match(h.forwarded, /^by=_exposr;for=127\.0\.0\.3;host=[^;]+;proto=https$/);
});

test('41: Host, Origin and Referer follow an https target; a tcps target changes nothing', async () => {
  const client = await connectedClient();
  const host = hostOf(client.id);
  const patch = await client.api('PATCH', `/v1/tunnel/${client.id}`, { target: { url: 'https://echo.internal' } });
  assert.equal(patch.status, 200, patch.body);
  let r = await ingress(client.id, { headers: { Origin: host, Referer: `http://${host}/page` } });
  assert.equal(r.json.headers.host, 'echo.internal');
  assert.equal(r.json.headers.origin, 'echo.internal');
  assert.equal(r.json.headers.referer, 'https://echo.internal/page');
  // A URL that points elsewhere stays.
  r = await ingress(client.id, { headers: { Referer: 'https://elsewhere.example/x' } });
  assert.equal(r.json.headers.referer, 'https://elsewhere.example/x');

  await client.api('PATCH', `/v1/tunnel/${client.id}`, { target: { url: 'tcps://echo.internal:443' } });
  r = await ingress(client.id, { headers: { Origin: host, Referer: `http://${host}/page` } });
  assert.equal(r.json.headers.host, host);
  assert.equal(r.json.headers.origin, host);
  assert.equal(r.json.headers.referer, `http://${host}/page`);
});

test('42: a tunnel whose target is the ingress itself is 508 HTTP_INGRESS_REQUEST_LOOP', async () => {
  // The client connects channels to the ingress port; the tunnel's target names the tunnel.
  const client = await connectedClient({ target: `http://127.0.0.1:${srv.port}/` });
  await client.api('PATCH', `/v1/tunnel/${client.id}`, { target: { url: `http://${hostOf(client.id)}/` } });
  assertJsonError(await ingress(client.id), 508, 'HTTP_INGRESS_REQUEST_LOOP');
});

test('43: a target port with nothing listening is 502 TUNNEL_TARGET_CON_RESET', async () => {
  const closed = await freePort();
  const client = await connectedClient({ target: `http://127.0.0.1:${closed}/` });
  assertJsonError(await ingress(client.id), 502, 'TUNNEL_TARGET_CON_RESET');
  // The connection still answers the next request the same way.
  assertJsonError(await ingress(client.id, { method: 'POST', send: async (req) => req.end('x') }),
    502, 'TUNNEL_TARGET_CON_RESET');
});

test('44: 1 MiB and chunked bodies pass unchanged; a response stalling 15 s completes', async () => {
  const size = MiB;
  let r = await ingress(tunnel.id, {
    method: 'POST', path: `/data?size=${size}`,
    headers: { 'Content-Length': size },
    send: (req) => writeBody(req, size),
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-request-sha256'], shaOf(size));
  assert.equal(crypto.createHash('sha256').update(r.body).digest('hex'), shaOf(size));

  r = await ingress(tunnel.id, {
    method: 'POST', path: `/data?size=${size}&chunked=1`,
    send: (req) => writeBody(req, size), // no Content-Length: Node sends it chunked
  });
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.equal(r.headers['x-request-sha256'], shaOf(size));
  assert.equal(crypto.createHash('sha256').update(r.body).digest('hex'), shaOf(size));

  const started = Date.now();
  r = await ingress(tunnel.id, { path: '/stall?ms=15000' });
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'a'.repeat(1000) + 'b'.repeat(1000));
  assert.ok(Date.now() - started >= 14500);
});

test('45: a websocket upgrade reaches the target with rewritten headers; 101 and frames come back', async () => {
  targetSeen.upgrade = null;
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`, {
    headers: { Host: hostOf(tunnel.id), 'X-Forwarded-For': '127.0.0.7' },
  });
  const upgraded = onceWithin(ws, 'upgrade');
  await onceWithin(ws, 'open');
  const [upgrade] = await upgraded;
  assert.equal(upgrade.statusCode, 101);
  ws.send('hello');
  const [msg] = await onceWithin(ws, 'message');
  assert.equal(msg.toString(), 'hello');
  const h = targetSeen.upgrade;
  assert.equal(h['x-forwarded-for'], '127.0.0.7');
  assert.equal(h['x-real-ip'], '127.0.0.7');
  assert.equal(h['x-forwarded-host'], hostOf(tunnel.id));
  assert.equal(h.forwarded, `by=_exposr;for=127.0.0.7;host=${hostOf(tunnel.id)};proto=http`);
  assert.match(h['exposr-via'], /^[0-9a-f]{40}$/);
  assert.match(h.connection, /upgrade/i, 'upgrades keep Connection');
  assert.equal(h.host, `127.0.0.1:${target.address().port}`);
  ws.close();
  await onceWithin(ws, 'close');
});

test('46: an alt-name with a correct CNAME routes to the tunnel', async () => {
  // The API checks the CNAME against the test DNS server (modules.api-v1.dns-server).
  const records = {};
  const dns = await startDnsServer(records);
  const own = await startExposrd({
    config: (p) => {
      const c = config(p);
      c.modules['api-v1']['dns-server'] = `127.0.0.1:${dns.port}`;
      return c;
    },
  });
  const client = await TunnelClient.create({ port: own.port, target: targetUrl, retryDelay: 200 });
  try {
    records['www.customer.example'] = `${client.id}.localhost`;
    const r = await client.api('PATCH', `/v1/tunnel/${client.id}`,
      { ingress: { http: { alt_names: ['www.customer.example'] } } });
    assert.equal(r.status, 200, r.body);
    await client.connect();
    const res = await new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: own.port, path: '/echo', agent: false,
        headers: { Host: `WWW.Customer.example:${own.port}` } }, (resp) => {
        const chunks = [];
        resp.on('data', (c) => chunks.push(c));
        resp.on('end', () => resolve({ status: resp.statusCode, body: Buffer.concat(chunks).toString() }));
      }).on('error', reject);
    });
    assert.equal(res.status, 200, res.body);
    const echoed = JSON.parse(res.body);
    assert.equal(echoed.headers['x-forwarded-host'], `www.customer.example:${own.port}`);
    // A name nobody claimed is not the ingress' business: the API answers it.
    const other = await apiCall(own.port, 'GET', '/v1/tunnel/abcdef', { headers: { Host: `unclaimed.example:${own.port}` } });
    assert.equal(other.status, 401);
  } finally {
    await client.stop();
    await dns.close();
    const r = await own.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});

test('47: requests for the bare ingress domain reach the API', async () => {
  const r = await apiCall(srv.port, 'GET', '/v1/tunnel/anything', { headers: { Host: `localhost:${srv.port}` } });
  assert.equal(r.status, 401);
  assert.deepEqual(r.json, { error: 'AUTH_NO_TOKEN' });
  const created = await apiCall(srv.port, 'POST', '/v1/account', { headers: { Host: `localhost:${srv.port}` } });
  assert.equal(created.status, 201);
});

// --- Bodies of every size, both ways -----------------------------------------------------

for (const size of [0, 1024, 10 * MiB, 100 * MiB]) {
  test(`GET and POST of ${size} bytes both ways keep their SHA-256`, async () => {
    const expect = shaOf(size);
    const get = await ingress(tunnel.id, { path: `/data?size=${size}` });
    assert.equal(get.status, 200);
    assert.equal(get.body.length, size);
    assert.equal(crypto.createHash('sha256').update(get.body).digest('hex'), expect);
    const post = await ingress(tunnel.id, {
      method: 'POST', path: `/data?size=${size}`,
      headers: { 'Content-Length': size },
      send: (req) => writeBody(req, size),
    });
    assert.equal(post.status, 200);
    assert.equal(Number(post.headers['x-request-length']), size);
    assert.equal(post.headers['x-request-sha256'], expect);
    assert.equal(crypto.createHash('sha256').update(post.body).digest('hex'), expect);
  });
}

test('chunked requests and responses pass unchanged', async () => {
  const r = await ingress(tunnel.id, { path: '/chunked' });
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.equal(r.body.toString(), 'chunk 0;chunk 1;chunk 2;chunk 3;chunk 4;end');
  // The request's chunk framing reaches the target byte for byte.
  const body = 'a'.repeat(10) + 'b'.repeat(70000);
  const raw = await rawRequest(srv.port,
    `POST /echo HTTP/1.1\r\nHost: ${hostOf(tunnel.id)}\r\nTransfer-Encoding: chunked\r\n` +
    `Connection: close\r\n\r\na\r\n${'a'.repeat(10)}\r\n${(70000).toString(16)}\r\n${'b'.repeat(70000)}\r\n` +
    '0\r\nX-Trailer: t\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
  const echoed = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
  assert.equal(echoed.length, body.length);
  assert.equal(echoed.sha256, crypto.createHash('sha256').update(body).digest('hex'));
  assert.equal(echoed.headers['transfer-encoding'], 'chunked');
});

test('Expect: 100-continue gets the target\'s interim answer, then the final one', async () => {
  let continued = false;
  const r = await ingress(tunnel.id, {
    method: 'POST', path: '/echo', headers: { Expect: '100-continue', 'Content-Length': 5 },
    send: async (req) => {
      req.on('continue', () => { continued = true; req.end('hello'); });
    },
  });
  assert.ok(continued);
  assert.equal(r.status, 200);
  assert.equal(r.json.length, 5);
});

test('HEAD answers end with their head on a kept-alive connection', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const head = await ingress(tunnel.id, { method: 'HEAD', path: '/data?size=5000', agent });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5000');
    assert.equal(head.body.length, 0);
    const get = await ingress(tunnel.id, { path: '/data?size=5000', agent });
    assert.equal(get.body.length, 5000);
    assert.ok(get.reused, 'the same connection carried both');
  } finally {
    agent.destroy();
  }
});

test('1,000 sequential requests on one keep-alive connection use one channel', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const ports = new Set();
    let reused = 0;
    for (let i = 0; i < 1000; i++) {
      const r = await ingress(tunnel.id, { path: `/echo?i=${i}`, agent });
      assert.equal(r.status, 200);
      assert.equal(r.json.url, `/echo?i=${i}`);
      ports.add(r.json.remotePort);
      if (r.reused) reused++;
    }
    assert.equal(reused, 999);
    assert.equal(ports.size, 1, 'one target connection: one channel');
  } finally {
    agent.destroy();
  }
});

test('200 concurrent connections', async () => {
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
    ingress(tunnel.id, { path: `/echo?c=${i}` })));
  results.forEach((r, i) => {
    assert.equal(r.status, 200);
    assert.equal(r.json.url, `/echo?c=${i}`);
  });
});

// Splits raw HTTP/1.1 responses with Content-Length bodies.
function splitResponses(text) {
  const out = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const len = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    out.push({ head, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

test('pipelined requests are answered in order', async () => {
  const host = hostOf(tunnel.id);
  const reqs = [1, 2, 3].map((i) => `GET /echo?p=${i} HTTP/1.1\r\nHost: ${host}\r\n\r\n`).join('') +
    `POST /echo?p=4 HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\n\r\nhello` +
    `GET /echo?p=5 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
  const raw = await rawRequest(srv.port, reqs);
  const responses = splitResponses(raw);
  assert.equal(responses.length, 5, raw);
  responses.forEach((r, i) => {
    assert.match(r.head, /^HTTP\/1\.1 200 OK/);
    assert.equal(JSON.parse(r.body).url, `/echo?p=${i + 1}`);
  });
  assert.equal(JSON.parse(responses[3].body).length, 5);
});

test('a later request for another host, or with a head too large, is refused after the earlier answers', async () => {
  const host = hostOf(tunnel.id);
  let raw = await rawRequest(srv.port, `GET /echo?a HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
    `GET /echo?b HTTP/1.1\r\nHost: ${hostOf('someone-else')}\r\n\r\n`);
  let responses = splitResponses(raw);
  assert.equal(responses.length, 2, raw);
  assert.equal(JSON.parse(responses[0].body).url, '/echo?a');
  assert.match(responses[1].head, /^HTTP\/1\.1 421 Misdirected Request\r\n/);
  assert.match(responses[1].head, /\r\nConnection: close/i);
  assert.deepEqual(JSON.parse(responses[1].body), { error: 'MISDIRECTED_REQUEST' });

  raw = await rawRequest(srv.port, `GET /echo?a HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
    `GET /echo?b HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'x'.repeat(20000)}\r\n\r\n`);
  responses = splitResponses(raw);
  assert.equal(responses.length, 2, raw);
  assert.match(responses[1].head, /^HTTP\/1\.1 431 /);
  assert.match(responses[1].head, /\r\nContent-Type: application\/json/i);
});

test('upgrades, first or later on a connection, become a raw splice with early bytes kept', async () => {
  const sock = net.connect(srv.port, '127.0.0.1');
  let text = '';
  sock.on('data', (d) => { text += d.toString('latin1'); });
  await onceWithin(sock, 'connect');
  const host = hostOf(tunnel.id);
  sock.write(`GET /echo HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  await waitFor(() => splitResponses(text).length === 1 && text.endsWith('}'), { what: 'first answer' });
  const key = crypto.randomBytes(16).toString('base64');
  // A masked text frame "ping" right behind the head: it must reach the target too.
  const mask = crypto.randomBytes(4);
  const payload = Buffer.from('ping').map((b, i) => b ^ mask[i % 4]);
  const frame = Buffer.concat([Buffer.from([0x81, 0x80 | 4]), mask, payload]);
  sock.write(Buffer.concat([Buffer.from(`GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\n` +
    `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`), frame]));
  await waitFor(() => text.includes('HTTP/1.1 101') && text.endsWith('ping'), { what: '101 and the echo' });
  sock.destroy();

  // The same as the connection's first request: the frame behind the head is not lost (D11).
  const first = net.connect(srv.port, '127.0.0.1');
  let got = '';
  first.on('data', (d) => { got += d.toString('latin1'); });
  await onceWithin(first, 'connect');
  first.write(Buffer.concat([Buffer.from(`GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\n` +
    `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`), frame]));
  await waitFor(() => got.startsWith('HTTP/1.1 101') && got.endsWith('ping'), { what: '101 and the echo' });
  first.destroy();
});

test('a websocket session through the tunnel: text, binary and a 1 MiB message', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`, { headers: { Host: hostOf(tunnel.id) }, maxPayload: 64 * MiB });
  await onceWithin(ws, 'open');
  const next = () => onceWithin(ws, 'message');
  ws.send('text frame');
  let [data, binary] = await next();
  assert.equal(binary, false);
  assert.equal(data.toString(), 'text frame');
  const small = crypto.randomBytes(100);
  ws.send(small);
  [data, binary] = await next();
  assert.equal(binary, true);
  assert.deepEqual(Buffer.from(data), small);
  const big = crypto.randomBytes(MiB);
  ws.send(big);
  [data] = await next();
  assert.equal(Buffer.compare(Buffer.from(data), big), 0);
  ws.close();
  await onceWithin(ws, 'close');
});

test('upgrade errors are raw answers with Content-Length and Connection: close', async () => {
  const upgrade = (id) => `GET /ws HTTP/1.1\r\nHost: ${hostOf(id)}\r\nConnection: Upgrade\r\n` +
    'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
  const check = (raw, line, code) => {
    const body = `{"error":"${code}"}`;
    assert.equal(raw, `HTTP/1.1 ${line}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  };
  check(await rawRequest(srv.port, upgrade('no-such-tunnel')), '404 Not Found', 'TUNNEL_NOT_FOUND');
  const idle = await newClient();
  check(await rawRequest(srv.port, upgrade(idle.id)), '502 Bad Gateway', 'TUNNEL_NOT_CONNECTED');
  const disabled = await connectedClient({ ingressHttp: false });
  check(await rawRequest(srv.port, upgrade(disabled.id)), '403 Forbidden', 'TUNNEL_HTTP_INGRESS_DISABLED');
});

test('a target resetting mid-response cuts the public response; before its head, 502', async () => {
  await assert.rejects(ingress(tunnel.id, { path: '/reset-mid' }), /aborted|socket hang up|ECONNRESET/);
  assertJsonError(await ingress(tunnel.id, { path: '/reset-early' }), 502, 'TUNNEL_TARGET_CON_RESET');
  // The tunnel keeps working.
  assert.equal((await ingress(tunnel.id)).status, 200);
});

test('exposr-via of other nodes is no loop: ours goes first', async () => {
  const r = await ingress(tunnel.id, { headers: { 'exposr-via': `abc, ${'0'.repeat(40)}` } });
  assert.equal(r.status, 200, 'a foreign node id is no loop');
  assert.match(r.json.headers['exposr-via'], new RegExp(`^[0-9a-f]{40},abc, ${'0'.repeat(40)}$`));
});

test('the idle timeout closes idle connections only, never a slow answer', async () => {
  const own = await startExposrd({
    config: (p) => {
      const c = config(p);
      c.modules['ingress-http']['idle-timeout'] = 2;
      return c;
    },
  });
  const client = await TunnelClient.create({ port: own.port, target: targetUrl, retryDelay: 200 });
  try {
    await client.connect();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // The target takes 5 s for the second half: more than the idle timeout.
    const slow = await ingress(client.id, { port: own.port, path: '/stall?ms=5000', agent });
    assert.equal(slow.status, 200);
    assert.equal(slow.body.length, 2000);
    const sock = slow.socket;
    const started = Date.now();
    await onceWithin(sock, 'close', 'the idle keep-alive connection to be closed', 8000);
    const idleFor = Date.now() - started;
    assert.ok(idleFor >= 1500 && idleFor < 5000, `closed after ${idleFor} ms idle`);
    agent.destroy();
  } finally {
    await client.stop();
    const r = await own.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});

// A download of /huge through `id` on `port`; `received` counts its bytes, `ended`
// resolves with whether the response completed.
function download(port, id) {
  const dl = { received: 0 };
  dl.ended = new Promise((resolve) => {
    dl.request = http.get({ host: '127.0.0.1', port, path: '/huge', agent: false,
      headers: { Host: hostOf(id, port) } }, (res) => {
      res.on('data', (d) => { dl.received += d.length; });
      res.on('error', () => {});
      res.on('close', () => resolve(res.complete));
    });
    dl.request.on('error', () => resolve(false));
  });
  return dl;
}

test('SIGTERM with connections idle, upgraded and mid-transfer exits cleanly', async () => {
  const own = await startExposrd({ config: (p) => config(p) });
  const client = await TunnelClient.create({ port: own.port, target: targetUrl, retryDelay: 200 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let ws;
  let dl;
  try {
    await client.connect();
    const idle = await ingress(client.id, { port: own.port, agent });
    assert.equal(idle.status, 200);
    ws = new WebSocket(`ws://127.0.0.1:${own.port}/ws`, { headers: { Host: hostOf(client.id, own.port) } });
    ws.on('error', () => {});
    await onceWithin(ws, 'open');
    dl = download(own.port, client.id);
    await waitFor(() => dl.received > MiB, { what: 'the download to start' });
    const started = Date.now();
    const r = await own.stop();
    assert.equal(r.code, 0, `exposrd exit ${r.code} ${r.signal}:\n${r.stderr}`);
    assert.ok(Date.now() - started < 12000);
    assert.equal(await withDeadline(dl.ended, 10000, 'the download to end with exposrd'), false,
      'the transfer was cut by the shutdown');
  } finally {
    dl?.request.destroy();
    ws?.terminate();
    agent.destroy();
    await client.stop();
    await own.stop();
  }
});

// --- Back-pressure ------------------------------------------------------------------------

function rssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

test('a public reader at 1 MiB/s of a 1 GiB response keeps the server under +16 MiB and makes it send PAUSE', async (t) => {
  // Its own server: the sanitizer's quarantine of freed memory would count as growth, so
  // it is kept small; what is measured is what the server buffers.
  const asan = [process.env.ASAN_OPTIONS, 'quarantine_size_mb=1', 'thread_local_quarantine_size_kb=64']
    .filter(Boolean).join(':');
  const own = await startExposrd({ config: (p) => config(p), env: { ASAN_OPTIONS: asan } });
  const client = await TunnelClient.create({ port: own.port, target: targetUrl, retryDelay: 200 });
  try {
    await client.connect();
    let pauses = 0;
    client.on('frame', (dir, slot, buf) => { if (dir === 'in' && buf.readUInt16BE(2) === PAUSE) pauses++; });
    // Warm up the path so that allocator pools exist before the baseline.
    assert.equal((await ingress(client.id, { port: own.port, path: `/data?size=${MiB}` })).status, 200);
    const baseline = rssBytes(own.proc.pid);

    const sock = net.connect(own.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write(`GET /huge HTTP/1.1\r\nHost: ${hostOf(client.id, own.port)}\r\n\r\n`);
    let received = 0;
    const start = Date.now();
    sock.on('data', (d) => {
      received += d.length;
      const allowed = ((Date.now() - start) / 1000) * MiB;
      if (received > allowed) {
        sock.pause();
        setTimeout(() => sock.resume(), Math.min(1000, ((received - allowed) / MiB) * 1000));
      }
    });
    let peak = baseline;
    while (Date.now() - start < 20000) {
      await sleep(250);
      peak = Math.max(peak, rssBytes(own.proc.pid));
    }
    sock.destroy();
    const growth = peak - baseline;
    t.diagnostic(`read ${(received / MiB).toFixed(1)} MiB; RSS ${(baseline / MiB).toFixed(1)} MiB ` +
      `+ ${(growth / MiB).toFixed(1)} MiB at most; ${pauses} PAUSE messages`);
    assert.ok(received > 15 * MiB && received < 25 * MiB, `read ${received} bytes in 20 s`);
    assert.ok(growth < 16 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    assert.ok(pauses > 0, 'the server paused the channel');
  } finally {
    await client.stop();
    const r = await own.stop();
    assert.equal(r.code, 0, `exposrd exit ${r.code}:\n${r.stderr}`);
  }
});

test('a target that reads slowly: PAUSE reaches the server, which stops reading the uploader', async () => {
  const client = await connectedClient();
  let clientPauses = 0;
  client.on('frame', (dir, slot, buf) => { if (dir === 'out' && buf.readUInt16BE(2) === PAUSE) clientPauses++; });
  const size = 8 * MiB;
  let blocked = 0;
  const r = await ingress(client.id, {
    method: 'POST', path: '/slow-read', headers: { 'Content-Length': size },
    send: async (req) => {
      for (const p of pieces(size)) {
        if (!req.write(p)) {
          blocked++;
          await drained(req);
        }
      }
      req.end();
    },
  });
  assert.equal(r.status, 200);
  assert.equal(r.json.length, size);
  assert.equal(r.json.sha256, shaOf(size));
  assert.ok(clientPauses > 0, 'the tunnel client sent PAUSE');
  assert.ok(blocked > 0, 'the uploader was held back');
});

test('the tunnel client vanishing mid-transfer (sockets gone, or process killed) frees every channel; other tunnels go on', async () => {
  const adminPort = await freePort();
  const own = await startExposrd({
    config: (p) => {
      const c = config(p);
      c.modules.admin = { port: adminPort };
      return c;
    },
  });
  const metrics = () => readMetrics(adminPort);
  const channels = async () => (await metrics()).exposrd_transport_ws_channels;
  const survivor = await TunnelClient.create({ port: own.port, target: targetUrl, retryDelay: 200 });
  const doomed = await TunnelClient.create({ port: own.port, target: targetUrl, retryDelay: 200 });
  let killed;
  try {
    await survivor.connect();
    await doomed.connect();
    // Sockets destroyed in this process: no close frames, the TCP connections just go.
    const first = download(own.port, doomed.id);
    await waitFor(() => first.received > 4 * MiB, { what: 'the download to start', timeout: 20000 });
    assert.equal(await channels(), 1, 'the download holds one channel');
    assert.equal((await metrics()).exposrd_ingress_http_connections, 1);
    doomed.stopped = true;
    for (const ws of doomed.sockets) ws?._socket?.destroy();
    assert.equal(await Promise.race([first.ended, sleep(10000).then(() => 'still open')]), false,
      'the public response was cut');
    assert.ok(first.received < 1024 * MiB);
    await waitFor(async () => (await channels()) === 0, { what: 'the channel freed' });
    assert.equal((await metrics()).exposrd_ingress_http_connections, 0);
    assertJsonError(await ingress(doomed.id, { port: own.port }), 503, 'TUNNEL_NOT_CONNECTED');
    assert.equal((await ingress(survivor.id, { port: own.port })).status, 200);

    // A client process killed mid-transfer.
    killed = await spawnClient({ port: own.port, target: targetUrl });
    const second = download(own.port, killed.id);
    await waitFor(() => second.received > 4 * MiB, { what: 'the download to start', timeout: 20000 });
    assert.equal(await channels(), 1);
    killed.child.kill('SIGKILL');
    assert.equal(await Promise.race([second.ended, sleep(10000).then(() => 'still open')]), false,
      'the public response was cut');
    await waitFor(async () => (await channels()) === 0, { what: 'the channel freed' });
    // The killed client's websockets end when exposrd notices, not with the channel.
    await waitFor(async () => (await metrics()).exposrd_transport_ws_connections === survivor.openCount,
      { what: 'only the survivor\'s websockets to be left' });
    const r = await ingress(survivor.id, { port: own.port });
    assert.equal(r.status, 200);
    assert.equal(await channels(), 0, 'a finished request frees its channel');
    // An upgraded connection is counted while the splice carries it.
    const ws = new WebSocket(`ws://127.0.0.1:${own.port}/ws`, { headers: { Host: hostOf(survivor.id, own.port) } });
    ws.on('error', () => {});
    await onceWithin(ws, 'open');
    assert.equal((await metrics()).exposrd_ingress_http_upgraded, 1);
    assert.equal(await channels(), 1);
    ws.close();
    await onceWithin(ws, 'close');
    await waitFor(async () => {
      const m = await metrics();
      return m.exposrd_ingress_http_upgraded === 0 && m.exposrd_transport_ws_channels === 0;
    }, { what: 'the splice and its channel freed' });
  } finally {
    killed?.child.kill('SIGKILL');
    await doomed.stop();
    await survivor.stop();
    const r = await own.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});
