// The websocket transport (docs/transport.md §4, checklist §12 items 17-36): the real exposrd,
// the real ws-multiplex client library and a raw multiplex client for what the library
// would never send.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, readMetrics, request, startExposrd, waitFor } from './lib/exposrd.mjs';
import { TunnelClient, apiCall, spawnClient, waitEvent } from './lib/client.mjs';
import { T, T1, connectRaw, encode, encodeV1 } from './lib/rawmux.mjs';

const MODULE_DIR = process.env.EXPOSRD_MODULE_DIR;
const HAVE_INGRESS = fs.existsSync(path.join(MODULE_DIR, 'ingress-http.so'));
const NEEDS_INGRESS = HAVE_INGRESS ? false : 'needs the ingress-http module';
const NOT_OPEN = 'ERR_WSM_CHANNEL_NOT_OPEN';

function config(port, { ingress = HAVE_INGRESS, extra = {} } = {}) {
  return {
    log: { level: 'warn' },
    http: { bind: '127.0.0.1' },
    ...extra,
    modules: {
      'storage-memory': {},
      'api-v1': { port, 'allow-registration': true },
      'transport-ws': { port },
      ...(ingress ? { 'ingress-http': { url: `http://localhost:${port}`, port } } : {}),
    },
  };
}

// The target service behind the tunnel: echoes POST bodies, serves sizes on /bytes/<n>.
function startTarget() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    // A slow target: reads nothing of the body for a second.
    if (req.url === '/length') {
      req.pause();
      setTimeout(() => req.resume(), 1000);
    }
    req.on('end', () => {
      const m = req.url.match(/^\/bytes\/(\d+)$/);
      if (m) {
        const body = Buffer.alloc(Number(m[1]), 'x');
        res.writeHead(200, { 'Content-Length': body.length });
        res.end(body);
        return;
      }
      if (req.url === '/length') {
        res.end(String(Buffer.concat(chunks).length));
        return;
      }
      const body = req.method === 'POST' ? Buffer.concat(chunks) : Buffer.from('hello');
      res.writeHead(200, { 'Content-Length': body.length, 'x-target-host': req.headers.host ?? '' });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let srv;
let adminPort; // the admin interface of srv, for /metrics
let target;
let targetUrl;

// The test config with the admin interface (for /metrics) on `admin`.
const configWithAdmin = (admin) => (port) => {
  const c = config(port);
  c.modules.admin = { port: admin };
  return c;
};

before(async () => {
  adminPort = await freePort();
  srv = await startExposrd({ config: configWithAdmin(adminPort) });
  target = await startTarget();
  targetUrl = `http://127.0.0.1:${target.address().port}/`;
});

after(async () => {
  await Promise.all([...clients].map((c) => c.stop()));
  target.close();
  const r = await srv.stop();
  assert.equal(r.code, 0, `exposrd exit ${r.code} ${r.signal}:\n${r.stderr}`);
});

// Every client made here: a test that fails half-way leaves none reconnecting for ever.
const clients = new Set();

// A tunnel set up through the API, not connected.
async function newTunnel(opts = {}) {
  const client = await TunnelClient.create({ port: srv.port, target: targetUrl, retryDelay: 200,
    ingressHttp: HAVE_INGRESS, ...opts });
  clients.add(client);
  return client;
}

async function wsUrl(client) {
  return (await client.tunnel()).transport.ws.url;
}

async function connectedRaw(client) {
  return connectRaw(await wsUrl(client));
}

function ingressRequest(client, opts = {}) {
  return request(srv.port, {
    ...opts,
    headers: { Host: `${client.id}.localhost:${srv.port}`, ...(opts.headers ?? {}) },
  });
}

// A public connection to the tunnel on the ingress, as raw TCP.
function ingressSocket(client) {
  const sock = net.connect(srv.port, '127.0.0.1');
  sock.received = '';
  sock.on('data', (d) => { sock.received += d.toString('latin1'); });
  sock.on('error', () => {});
  sock.ended = new Promise((resolve) => sock.on('close', resolve));
  sock.head = (method = 'GET', pathname = '/', extra = '') =>
    `${method} ${pathname} HTTP/1.1\r\nHost: ${client.id}.localhost:${srv.port}\r\n${extra}\r\n`;
  return sock;
}

const HTTP_OK = (body, extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

async function connectedState(client) {
  return (await client.tunnel()).connection;
}

// --- Handshake and authorisation -------------------------------------------------------

test('17: the upgrade succeeds with 101, no extensions and no sub-protocol', async () => {
  const client = await newTunnel();
  const url = new URL(await wsUrl(client));
  assert.equal(url.pathname, `/v1/tunnel/${client.id}/ws-endpoint`);
  assert.match(url.searchParams.get('t'), /^[A-Za-z0-9_-]{86}$/);
  // The request the client sends, permessage-deflate offered (§4.1).
  const key = crypto.randomBytes(16).toString('base64');
  const sock = net.connect(srv.port, '127.0.0.1');
  let head = '';
  sock.on('data', (d) => { head += d.toString('latin1'); });
  sock.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
    `Host: 127.0.0.1:${srv.port}\r\n\r\n`);
  await waitFor(() => head.includes('\r\n\r\n'), { what: '101 head' });
  sock.destroy();
  const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
  const lines = head.slice(0, head.indexOf('\r\n\r\n')).split('\r\n');
  assert.equal(lines[0], 'HTTP/1.1 101 Switching Protocols');
  const headers = Object.fromEntries(lines.slice(1).map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
  }));
  assert.equal(headers.upgrade.toLowerCase(), 'websocket');
  assert.equal(headers.connection.toLowerCase(), 'upgrade');
  assert.equal(headers['sec-websocket-accept'], accept);
  assert.equal(headers['sec-websocket-extensions'], undefined);
  assert.equal(headers['sec-websocket-protocol'], undefined);
  // And through `ws`, which offers permessage-deflate by default.
  const raw = await connectedRaw(client);
  assert.equal(raw.ws.extensions, '');
  assert.equal(raw.ws.protocol, '');
  raw.close();
  await raw.closed;
});

test('18: re-using the same URL (same token) is refused before 101 with a JSON body', async () => {
  const client = await newTunnel();
  const url = await wsUrl(client);
  const first = await connectRaw(url);
  await assert.rejects(connectRaw(url), (err) => {
    assert.equal(err.status, 401);
    assert.equal(err.headers['content-type'], 'application/json');
    assert.equal(err.headers.connection, 'close');
    assert.equal(Number(err.headers['content-length']), Buffer.byteLength(err.body));
    assert.deepEqual(err.json, { error: 'PERMISSION_DENIED' });
    return true;
  });
  first.close();
  await first.closed;
});

test('19: a wrong or missing token is refused with 401 and a JSON body; the client reports it', async () => {
  const client = await newTunnel();
  const url = new URL(await wsUrl(client));
  url.searchParams.set('t', 'A'.repeat(86));
  await assert.rejects(connectRaw(url.href), (err) => {
    assert.equal(err.status, 401);
    assert.deepEqual(err.json, { error: 'PERMISSION_DENIED' });
    return true;
  });
  url.search = '';
  await assert.rejects(connectRaw(url.href), (err) => {
    assert.equal(err.status, 401);
    assert.deepEqual(err.json, { error: 'PERMISSION_DENIED' });
    return true;
  });
  // A tunnel that does not exist.
  const unknown = new URL(url);
  unknown.pathname = '/v1/tunnel/no-such-tunnel-here/ws-endpoint';
  unknown.search = '?t=abc';
  await assert.rejects(connectRaw(unknown.href), (err) => {
    assert.equal(err.status, 404);
    assert.deepEqual(err.json, { error: 'TUNNEL_NOT_FOUND' });
    return true;
  });
  // The client's connect attempt ends with the error code instead of hanging (D2).
  url.search = `?t=${'B'.repeat(86)}`;
  const started = Date.now();
  await assert.rejects(client._connectOnce(0, url.href), (err) => {
    assert.equal(err.code, 'PERMISSION_DENIED');
    return true;
  });
  assert.ok(Date.now() - started < 2000);
  // The slot loop fetches a fresh token for every attempt and connects.
  await client.connect();
  await client.stop();
});

test('19b: bad method and bad websocket headers get JSON refusals too', async () => {
  const client = await newTunnel();
  const url = new URL(await wsUrl(client));
  const target = `${url.pathname}${url.search}`;
  const base = `Host: 127.0.0.1:${srv.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n`;
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const cases = [
    [`POST ${target} HTTP/1.1\r\n${base}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\nContent-Length: 0\r\n\r\n`, 405],
    [`GET ${target} HTTP/1.1\r\n${base}Sec-WebSocket-Version: 12\r\nSec-WebSocket-Key: ${key}\r\n\r\n`, 400],
    [`GET ${target} HTTP/1.1\r\n${base}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n`, 400],
    [`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`, 400],
  ];
  for (const [bytes, status] of cases) {
    const text = await new Promise((resolve, reject) => {
      const s = net.connect(srv.port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => { got += d.toString('latin1'); });
      s.on('close', () => resolve(got));
      s.on('error', reject);
      s.write(bytes);
    });
    const [head, body] = text.split('\r\n\r\n');
    assert.match(head, new RegExp(`^HTTP/1.1 ${status} `), text);
    assert.match(head, /\r\nContent-Type: application\/json\r\n/i);
    assert.match(head, /\r\nConnection: close(\r\n|$)/i);
    assert.equal(JSON.parse(body).error, 'BAD_INPUT');
  }
  // None of them used the token up.
  const raw = await connectRaw(url.href);
  raw.close();
  await raw.closed;
});

const HAVE_ADMIN_API = fs.existsSync(path.join(MODULE_DIR, 'admin-api.so'));

test('19c: disabling the account closes its connections with 1008 and refuses new ones with 401', { skip: HAVE_ADMIN_API ? false : 'needs the admin-api module' }, async () => {
  const adminPort = await freePort();
  const own = await startExposrd({
    config: (port) => {
      const cfg = config(port, { ingress: false });
      cfg.modules['admin-api'] = { port: adminPort, key: 'k' };
      return cfg;
    },
  });
  try {
    const client = await TunnelClient.create({ port: own.port, target: targetUrl, retryDelay: 200,
      ingressHttp: false });
    await client.connect();
    const closes = [];
    client.on('close', (slot, code) => closes.push(code));
    const r = await apiCall(adminPort, 'PUT', `/v1/admin/account/${client.account}/disable`, {
      token: Buffer.from('k').toString('base64'), body: { disable: true, reason: 'spam' },
    });
    assert.equal(r.status, 200, r.body);
    await waitFor(() => closes.length === 2, { what: 'both closed' });
    assert.deepEqual(closes, [1008, 1008]);
    await assert.rejects(connectRaw(await wsUrl(client)), (err) => {
      assert.equal(err.status, 401);
      assert.deepEqual(err.json, { error: 'PERMISSION_DENIED' });
      return true;
    });
    await client.stop();
  } finally {
    const r = await own.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});

test('20: GET right after a successful upgrade returns a different token', async () => {
  const client = await newTunnel();
  const url = await wsUrl(client);
  const raw = await connectRaw(url);
  const next = await wsUrl(client);
  assert.notEqual(new URL(next).searchParams.get('t'), new URL(url).searchParams.get('t'));
  raw.close();
  await raw.closed;
});

test('21: two connections are registered; a third is closed with 1008, the first two keep working', async () => {
  const client = await newTunnel();
  await client.connect();
  assert.equal(client.openCount, 2);
  const state = await connectedState(client);
  assert.equal(state.connected, true);
  assert.equal(state.connections, 2);
  assert.equal(typeof state.connected_at, 'number');
  // The third is accepted at the HTTP level, then closed with 1008.
  const third = await connectedRaw(client);
  const closed = await third.closed;
  assert.deepEqual(closed, { code: 1008, reason: 'unable to establish tunnel' });
  assert.equal((await connectedState(client)).connections, 2);
  assert.equal(client.openCount, 2);
  // Both still answer: a channel for the client's library is refused as "not open".
  for (const ws of client.sockets) ws.send(encode(T.DATA, 77, 77, 'x'));
  await sleep(200);
  assert.equal(client.openCount, 2);
  await client.stop();
  await waitFor(async () => !(await connectedState(client)).connected, { what: 'disconnected' });
});

test('78: with max-connections 1 the client opens one websocket; a second instance gets 1008', async () => {
  const own = await startExposrd({
    config: (port) => config(port, { ingress: false, extra: { tunnels: { 'max-connections': 1 } } }),
  });
  try {
    const client = await TunnelClient.create({ port: own.port, target: targetUrl, retryDelay: 200,
      ingressHttp: false });
    assert.equal((await client.tunnel()).transport.max_connections, 1);
    await client.connect();
    assert.equal(client.openCount, 1);
    const second = new TunnelClient({ port: own.port, target: targetUrl, tunnelId: client.id,
      account: client.account, connections: 1, ingressHttp: false });
    await second.setup();
    const closed = waitEvent(second, 'close');
    second.connect().catch(() => {});
    const [, code, reason] = await closed;
    assert.deepEqual([code, reason], [1008, 'unable to establish tunnel']);
    assert.equal(client.openCount, 1);
    await second.stop();
    await client.stop();
  } finally {
    const r = await own.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});

// --- Keep-alive ---------------------------------------------------------------------------

describe('keep-alive', { concurrency: true }, () => {
  test('22: a ping within 1 s of the upgrade, then every 10 s; pongs echo the payload', async () => {
    const client = await newTunnel();
    const raw = await connectedRaw(client);
    const opened = Date.now();
    await waitFor(() => raw.pings.length >= 1, { timeout: 1000, what: 'first ping' });
    assert.ok(raw.pings[0] - opened < 1000);
    const pong = new Promise((resolve) => raw.ws.once('pong', (data) => resolve(data.toString())));
    raw.ws.ping('payload-123');
    assert.equal(await pong, 'payload-123');
    await waitFor(() => raw.pings.length >= 2, { timeout: 12000, what: 'second ping' });
    const gap = raw.pings[1] - raw.pings[0];
    assert.ok(gap > 9000 && gap < 11000, `ping gap ${gap} ms`);
    raw.close();
    await raw.closed;
  });

  test('23: a client that stops answering pings is dropped within 30 s', async () => {
    const client = await newTunnel();
    const raw = await connectRaw(await wsUrl(client), { autoPong: false });
    const opened = Date.now();
    assert.equal((await connectedState(client)).connected, true);
    const closed = await Promise.race([raw.closed, sleep(31000).then(() => 'timeout')]);
    assert.notEqual(closed, 'timeout', 'not dropped within 30 s');
    // D5: the TCP connection is closed (no close handshake).
    assert.equal(closed.code, 1006);
    const elapsed = raw.closedAt - opened;
    assert.ok(elapsed >= 19000 && elapsed <= 30000, `dropped after ${elapsed} ms`);
    await waitFor(async () => !(await connectedState(client)).connected, { what: 'disconnected' });
  });
});

// --- Multiplex input handling (no ingress needed) -------------------------------------------

test('26: fragmented and unfragmented client messages are both understood', async () => {
  const client = await newTunnel();
  const raw = await connectedRaw(client);
  // A client OPEN is refused with CLOSE(dst=src, src=0): as one frame...
  raw.send(encode(T.OPEN, 0, 40));
  let m = await raw.next();
  assert.deepEqual([m.type, m.dst, m.src], [T.CLOSE, 40, 0]);
  // ...and split in two frames in the middle of the header.
  const open = encode(T.OPEN, 0, 41);
  raw.sendFragments([open.subarray(0, 7), open.subarray(7)]);
  m = await raw.next();
  assert.deepEqual([m.type, m.dst, m.src], [T.CLOSE, 41, 0]);
  // DATA as the library sends it: header frame, then one continuation frame per buffer.
  raw.sendFragments([encode(T.DATA, 42, 43).subarray(0, 16), Buffer.from('abc'), Buffer.from('def')]);
  m = await raw.next();
  assert.deepEqual([m.type, m.dst, m.src, m.payload.toString()], [T.CLOSE, 43, 0, NOT_OPEN]);
  // Control frames between the fragments are fine.
  raw.ws.send(encode(T.DATA, 44, 45).subarray(0, 16), { binary: true, fin: false });
  raw.ws.ping('x');
  raw.ws.send(Buffer.from('z'), { binary: true, fin: true });
  m = await raw.next();
  assert.deepEqual([m.type, m.dst, m.src], [T.CLOSE, 45, 0]);
  raw.close();
  await raw.closed;
});

test('30: DATA for an unknown channel X is answered CLOSE(dst=X, src=0, ERR_WSM_CHANNEL_NOT_OPEN)', async () => {
  const client = await newTunnel();
  const raw = await connectedRaw(client);
  // First DATA ever on this connection (the version is still unknown).
  raw.send(encode(T.DATA, 7, 7, 'A'));
  const m = await raw.next();
  assert.equal(m.raw.toString('hex'),
    `00020004000000070000000000000018${Buffer.from(NOT_OPEN).toString('hex')}`);
  // ACK, PAUSE, RESUME for unknown channels likewise.
  for (const type of [T.ACK, T.PAUSE, T.RESUME]) {
    raw.send(encode(type, 9, 8));
    const r = await raw.next();
    assert.deepEqual([r.type, r.dst, r.src, r.payload.toString()], [T.CLOSE, 8, 0, NOT_OPEN]);
  }
  // A CLOSE for an unknown channel is still acknowledged (src != 0).
  raw.send(encode(T.CLOSE, 9, 8));
  const ack = await raw.next();
  assert.deepEqual([ack.type, ack.dst, ack.src], [T.ACK, 8, 9]);
  raw.close();
  await raw.closed;
});

test('malformed: short messages and unknown types are ignored, the connection stays', async () => {
  const client = await newTunnel();
  const raw = await connectedRaw(client);
  raw.send(Buffer.alloc(0));
  raw.send(Buffer.from([0, 2, 0, 1]));
  raw.send(encode(T.DATA, 7, 7).subarray(0, 15));
  raw.send(encode(9, 7, 7, 'x'));
  assert.ok(await raw.quiet(300));
  raw.send(encode(T.DATA, 7, 7, 'x'));
  const m = await raw.next();
  assert.deepEqual([m.type, m.dst], [T.CLOSE, 7]);
  assert.equal((await connectedState(client)).connected, true);
  raw.close();
  await raw.closed;
});

test('33: a message with version != 2 closes only that connection; the server goes on', async () => {
  const client = await newTunnel();
  const bad = await connectedRaw(client);
  const good = await connectedRaw(client);
  bad.send(encode(T.DATA, 1, 1, 'hello', { version: 3 }));
  const closed = await bad.closed;
  assert.equal(closed.code, 1002);
  // The other connection of the same tunnel still works.
  good.send(encode(T.DATA, 5, 5, 'x'));
  const m = await good.next();
  assert.deepEqual([m.type, m.dst, m.src], [T.CLOSE, 5, 0]);
  const state = await connectedState(client);
  assert.equal(state.connections, 1);
  good.close();
  await good.closed;
});

test('malformed: an oversized message closes that websocket with 1009, others go on', async () => {
  const client = await newTunnel();
  const big = await connectedRaw(client);
  const other = await connectedRaw(client);
  big.send(Buffer.concat([encode(T.DATA, 1, 1).subarray(0, 16), Buffer.alloc(5 * 1024 * 1024)]));
  const closed = await big.closed;
  assert.equal(closed.code, 1009);
  other.send(encode(T.DATA, 6, 6, 'x'));
  const m = await other.next();
  assert.deepEqual([m.type, m.dst], [T.CLOSE, 6]);
  other.close();
  await other.closed;
});

// --- Server-side disconnects ---------------------------------------------------------------

test('13: an API disconnect closes every connection with 1008; the client stops and the tunnel stays down', async () => {
  const client = await newTunnel();
  await client.connect();
  if (HAVE_INGRESS) assert.equal((await ingressRequest(client)).status, 200);
  const closes = [];
  client.on('close', (slot, code, reason) => closes.push([code, reason]));
  const started = Date.now();
  const r = await client.api('POST', `/v1/tunnel/${client.id}/disconnect`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { result: true });
  await waitFor(() => closes.length === 2, { timeout: 1000, what: 'both closed within 1 s' });
  assert.ok(Date.now() - started <= 1000);
  assert.deepEqual(closes, [[1008, 'Tunnel disconnected'], [1008, 'Tunnel disconnected']]);
  // As the exposr 0.10 client: a slot closed with 1008 never reconnects.
  await client.ended();
  assert.equal(client.openCount, 0);
  const state = await connectedState(client);
  assert.equal(state.connected, false);
  assert.equal(state.connections, 0);
  if (HAVE_INGRESS) {
    const down = await ingressRequest(client);
    assert.equal(down.status, 503);
    assert.deepEqual(down.json, { error: 'TUNNEL_NOT_CONNECTED' });
  }
  await client.stop();
});

test('deleting the tunnel closes its connections with 1008 and the client stops', async () => {
  const client = await newTunnel();
  await client.connect();
  const closes = [];
  client.on('close', (slot, code) => closes.push(code));
  const r = await client.api('DELETE', `/v1/tunnel/${client.id}`);
  assert.equal(r.status, 204);
  await waitFor(() => closes.length === 2, { what: 'both closed' });
  assert.deepEqual(closes, [1008, 1008]);
  await client.ended();
  assert.equal(client.openCount, 0, 'the slots stopped after 1008');
  await client.stop();
});

/**
 * Runs `fn({ port, gauge })` against a server of its own, so that the connection gauge
 * counts only the test's connections: on the shared server, connections that earlier
 * tests closed may still be finishing their close.
 */
async function withOwnServer(fn) {
  const admin = await freePort();
  const own = await startExposrd({ config: configWithAdmin(admin) });
  try {
    await fn({ port: own.port, gauge: async () => (await readMetrics(admin)).exposrd_transport_ws_connections });
  } finally {
    const r = await own.stop();
    assert.equal(r.code, 0, `exposrd exit ${r.code} ${r.signal}:\n${r.stderr}`);
  }
}

test('the client vanishing (socket destroyed) leaves the tunnel connected:false', () => withOwnServer(async ({ port, gauge }) => {
  const client = await newTunnel({ port, connections: 1 });
  await client.connect();
  assert.equal((await connectedState(client)).connected, true);
  assert.equal(await gauge(), 1);
  client.stopped = true; // no reconnect
  client.sockets[0]._socket.destroy();
  await waitFor(async () => {
    const s = await connectedState(client);
    return !s.connected && s.connections === 0;
  }, { what: 'disconnected' });
  await waitFor(async () => (await gauge()) === 0, { what: 'the connection gauge back to 0' });
  await client.stop();
}));

test('the client process killed leaves the tunnel connected:false', () => withOwnServer(async ({ port, gauge }) => {
  const { child, id, token } = await spawnClient({ port, target: targetUrl, ingressHttp: HAVE_INGRESS });
  const state = async () => (await apiCall(port, 'GET', `/v1/tunnel/${id}`, { token })).json.connection;
  assert.equal((await state()).connections, 2);
  assert.equal(await gauge(), 2);
  child.kill('SIGKILL');
  await waitFor(async () => {
    const s = await state();
    return !s.connected && s.connections === 0;
  }, { what: 'disconnected after the kill' });
  await waitFor(async () => (await gauge()) === 0, { what: 'the connection gauge back to 0' });
}));

// --- Channels through the HTTP ingress ------------------------------------------------------

test('e2e: the ws-multiplex client serves GET, POST and 1 MiB through two connections', { skip: NEEDS_INGRESS }, async () => {
  const client = await newTunnel();
  const channels = [];
  client.on('channel', (slot) => channels.push(slot));
  await client.connect();
  const r = await ingressRequest(client, { path: '/' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello');
  const post = await ingressRequest(client, { method: 'POST', path: '/echo', body: 'ping-pong',
    headers: { 'Content-Type': 'text/plain' } });
  assert.equal(post.status, 200);
  assert.equal(post.body, 'ping-pong');
  const big = await ingressRequest(client, { path: `/bytes/${1024 * 1024}` });
  assert.equal(big.status, 200);
  assert.equal(big.body.length, 1024 * 1024);
  const upload = Buffer.alloc(1024 * 1024, 'u');
  const up = await ingressRequest(client, { method: 'POST', path: '/up', body: upload });
  assert.equal(up.body.length, upload.length);
  // Round-robin over the two websockets.
  assert.ok(channels.includes(0) && channels.includes(1), `channels on slots ${channels}`);
  await client.stop();
});

test('e2e: 50 concurrent requests over two connections all complete', { skip: NEEDS_INGRESS }, async () => {
  const client = await newTunnel();
  await client.connect();
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    ingressRequest(client, { method: 'POST', path: '/echo', body: `body-${i}` })));
  results.forEach((r, i) => {
    assert.equal(r.status, 200);
    assert.equal(r.body, `body-${i}`);
  });
  await client.stop();
});

const typeOf = (buf) => (buf.length >= 16 ? buf.readUInt16BE(2) : 0);

test('e2e: a slow public reader makes the server PAUSE the channel, RESUME later; nothing is lost', { skip: NEEDS_INGRESS }, async () => {
  const client = await newTunnel({ connections: 1 });
  const seen = [];
  client.on('frame', (dir, slot, buf) => { if (dir === 'in') seen.push(typeOf(buf)); });
  await client.connect();
  const size = 16 * 1024 * 1024;
  const sock = ingressSocket(client);
  sock.pause();
  sock.write(sock.head('GET', `/bytes/${size}`));
  await waitFor(() => seen.includes(T.PAUSE), { what: 'PAUSE from the server' });
  let got = 0;
  sock.removeAllListeners('data');
  sock.on('data', (d) => { got += d.length; });
  sock.resume();
  await waitFor(() => got >= size, { timeout: 20000, what: 'the whole body' });
  assert.ok(seen.includes(T.RESUME), 'RESUME from the server');
  sock.destroy();
  await client.stop();
});

test('e2e: a client PAUSE for a slow target stops the server DATA; the upload arrives whole', { skip: NEEDS_INGRESS }, async () => {
  const client = await newTunnel({ connections: 1 });
  const sent = [];
  client.on('frame', (dir, slot, buf) => { if (dir === 'out') sent.push(typeOf(buf)); });
  await client.connect();
  const size = 8 * 1024 * 1024;
  const r = await ingressRequest(client, { method: 'POST', path: '/length', body: Buffer.alloc(size, 'p') });
  assert.equal(r.status, 200);
  assert.equal(r.body, String(size));
  assert.ok(sent.includes(T.PAUSE), 'the client paused the channel');
  await client.stop();
});

// The raw client as the tunnel's only connection, answering like ws-multiplex does.
async function rawTunnel() {
  const client = await newTunnel();
  const raw = await connectedRaw(client);
  return { client, raw };
}

test('24: the first OPEN on a fresh connection is 0002 0002 00000000 00000001 00000000, then 2, 3', { skip: NEEDS_INGRESS }, async () => {
  const { client, raw } = await rawTunnel();
  const pending = [];
  for (let i = 1; i <= 3; i++) {
    const sock = ingressSocket(client);
    sock.write(sock.head());
    const open = await raw.next();
    if (i === 1) assert.equal(open.raw.toString('hex'), '00020002000000000000000100000000');
    assert.deepEqual([open.type, open.dst, open.src, open.length], [T.OPEN, 0, i, 0]);
    raw.send(encode(T.ACK, i, i));
    const data = await raw.next((m) => m.type === T.DATA && m.src === i);
    assert.match(data.payload.toString(), /^GET \/ HTTP\/1.1\r\n/);
    raw.send(encode(T.DATA, i, i, HTTP_OK(`r${i}`)));
    await waitFor(() => sock.received.includes(`r${i}`), { what: `response ${i}` });
    pending.push(sock);
  }
  for (const s of pending) s.destroy();
  raw.close();
  await raw.closed;
});

test('25: after ACK(dst=S, src=C=S) DATA flows both ways with dst=C, src=S and correct lengths', { skip: NEEDS_INGRESS }, async () => {
  const { client, raw } = await rawTunnel();
  const sock = ingressSocket(client);
  sock.write(sock.head('POST', '/x', 'Content-Length: 5\r\n'));
  const open = await raw.next();
  raw.send(encode(T.ACK, open.src, open.src));
  sock.write('abcde');
  let got = '';
  while (!got.includes('abcde')) {
    const m = await raw.next((x) => x.type === T.DATA);
    assert.equal(m.dst, open.src);
    assert.equal(m.src, open.src);
    assert.equal(m.length, m.payload.length);
    got += m.payload.toString();
  }
  // The response goes back as fragmented DATA, as the library sends it.
  const body = HTTP_OK('fine');
  raw.sendFragments([encode(T.DATA, open.src, open.src, body).subarray(0, 16), Buffer.from(body)]);
  await waitFor(() => sock.received.endsWith('fine'), { what: 'response' });
  sock.destroy();
  raw.close();
  await raw.closed;
});

test('27: a client CLOSE is ACKed and the ingress side closed after all earlier DATA', { skip: NEEDS_INGRESS }, async () => {
  const { client, raw } = await rawTunnel();
  const sock = ingressSocket(client);
  sock.write(sock.head());
  const open = await raw.next();
  raw.send(encode(T.ACK, 1, 1));
  await raw.next((m) => m.type === T.DATA);
  raw.send(encode(T.DATA, 1, 1, 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart1-'));
  raw.send(encode(T.DATA, 1, 1, 'part2'));
  raw.send(encode(T.CLOSE, 1, 1));
  const ack = await raw.next((m) => m.type === T.ACK);
  assert.deepEqual([ack.dst, ack.src], [1, open.src]);
  await sock.ended;
  assert.ok(sock.received.endsWith('part1-part2'), sock.received);
  raw.close();
  await raw.closed;
});

test('28: the ingress connection ending closes the channel with an empty CLOSE, freed on ACK or after 1 s', { skip: NEEDS_INGRESS }, async () => {
  const { client, raw } = await rawTunnel();
  for (const answer of [true, false]) {
    const sock = ingressSocket(client);
    sock.write(sock.head());
    const open = await raw.next((m) => m.type === T.OPEN);
    const s = open.src;
    raw.send(encode(T.ACK, s, s));
    await raw.next((m) => m.type === T.DATA && m.src === s);
    raw.send(encode(T.DATA, s, s, HTTP_OK('done')));
    await waitFor(() => sock.received.endsWith('done'), { what: 'response' });
    sock.destroy();
    const close = await raw.next((m) => m.type === T.CLOSE && m.src === s);
    assert.deepEqual([close.dst, close.src, close.length, close.payload.length], [s, s, 0, 0]);
    if (answer) {
      raw.send(encode(T.ACK, s, s));
      await sleep(100);
    } else {
      await sleep(1200);
    }
    // Freed either way: the number is unknown now.
    raw.send(encode(T.DATA, s, s, 'late'));
    const r = await raw.next((m) => m.type === T.CLOSE && m.dst === s);
    assert.deepEqual([r.src, r.payload.toString()], [0, NOT_OPEN]);
  }
  raw.close();
  await raw.closed;
});

test('29: after PAUSE no DATA on S until RESUME; other channels go on', { skip: NEEDS_INGRESS }, async () => {
  const { client, raw } = await rawTunnel();
  const a = ingressSocket(client);
  a.write(a.head('POST', '/a', 'Content-Length: 10\r\n'));
  const openA = await raw.next((m) => m.type === T.OPEN);
  raw.send(encode(T.ACK, openA.src, openA.src));
  await raw.next((m) => m.type === T.DATA && m.src === openA.src);
  raw.send(encode(T.PAUSE, openA.src, openA.src));
  await sleep(100);
  a.write('01234');
  const b = ingressSocket(client);
  b.write(b.head('GET', '/b'));
  const openB = await raw.next((m) => m.type === T.OPEN);
  raw.send(encode(T.ACK, openB.src, openB.src));
  const dataB = await raw.next((m) => m.type === T.DATA && m.src === openB.src);
  assert.match(dataB.payload.toString(), /^GET \/b /);
  assert.ok(await raw.quiet(500, (m) => m.type === T.DATA && m.src === openA.src),
    'DATA on a paused channel');
  raw.send(encode(T.RESUME, openA.src, openA.src));
  const late = await raw.next((m) => m.type === T.DATA && m.src === openA.src);
  assert.equal(late.payload.toString(), '01234');
  a.destroy();
  b.destroy();
  raw.close();
  await raw.closed;
});

test('31: an OPEN rejected by the client gives 429/502 and the server recovers (1011)', { skip: NEEDS_INGRESS }, async () => {
  for (const [reason, status, error] of [['ERR_WSM_NO_CHANNELS', 429, 'TUNNEL_TRANSPORT_REQUEST_LIMIT'],
    ['ERR_WSM_OPEN_CHANNEL_REUSE', 502, 'TUNNEL_TARGET_CON_FAILED']]) {
    const { client, raw } = await rawTunnel();
    const response = ingressRequest(client);
    const open = await raw.next();
    raw.send(encode(T.CLOSE, open.src, 0, reason));
    const r = await response;
    assert.equal(r.status, status);
    assert.deepEqual(r.json, { error });
    // Numbering diverged: the websocket is closed so that the client starts afresh.
    const closed = await raw.closed;
    assert.equal(closed.code, 1011);
    await waitFor(async () => !(await connectedState(client)).connected, { what: 'disconnected' });
  }
});

test('32: an ACK with src != S gets no DATA, the request fails cleanly, the websocket closes with 1011', { skip: NEEDS_INGRESS }, async () => {
  const { client, raw } = await rawTunnel();
  const response = ingressRequest(client);
  const open = await raw.next();
  raw.send(encode(T.ACK, open.src, open.src + 4));
  const close = await raw.next();
  assert.deepEqual([close.type, close.dst, close.src], [T.CLOSE, open.src + 4, open.src]);
  const r = await response;
  assert.equal(r.status, 502);
  assert.deepEqual(r.json, { error: 'TUNNEL_TARGET_CON_FAILED' });
  const closed = await raw.closed;
  assert.equal(closed.code, 1011);
  assert.ok(!raw.messages.some((m) => m.type === T.DATA), 'DATA sent on a mismatched channel');
});

test('34: a fake v1 client answering the first OPEN with a v1 CONACK is served in v1', { skip: NEEDS_INGRESS }, async () => {
  const { client, raw } = await rawTunnel();
  // The probe: a v1 client reads it as CON for channel 0.
  const first = ingressRequest(client, { path: '/one' });
  const probe = await raw.next();
  assert.equal(probe.raw.toString('hex'), '00020002000000000000000100000000');
  raw.send(encodeV1(T1.CONACK, 0));
  const data0 = await raw.next();
  assert.equal(data0.version, 1);
  assert.deepEqual([data0.type, data0.channel], [T1.DATA, 0]);
  assert.equal(data0.length, data0.payload.length);
  assert.match(data0.payload.toString(), /^GET \/one HTTP\/1.1\r\n/);
  raw.send(encodeV1(T1.DATA, 0, HTTP_OK('v1-zero', 'Connection: close\r\n')));
  const r1 = await first;
  assert.equal(r1.status, 200);
  assert.equal(r1.body, 'v1-zero');
  // The server's FIN for 0 when the public connection ends; 0 stays reserved.
  const fin0 = await raw.next((m) => m.type === T1.FIN);
  assert.deepEqual([fin0.version, fin0.channel], [1, 0]);
  // Later channels use CON/CONACK numbered from 1.
  const second = ingressRequest(client, { path: '/two' });
  const con = await raw.next((m) => m.type === T1.CON);
  assert.equal(con.raw.toString('hex'), '000100020000000100000000');
  raw.send(encodeV1(T1.CONACK, 1));
  const data1 = await raw.next((m) => m.type === T1.DATA && m.channel === 1);
  assert.match(data1.payload.toString(), /^GET \/two /);
  raw.send(encodeV1(T1.DATA, 1, HTTP_OK('v1-one')));
  raw.send(encodeV1(T1.FIN, 1));
  const r2 = await second;
  assert.equal(r2.body, 'v1-one');
  // The client's FIN for 0 frees it; 2 is next.
  raw.send(encodeV1(T1.FIN, 0));
  const third = ingressRequest(client, { path: '/three' });
  const con2 = await raw.next((m) => m.type === T1.CON);
  assert.equal(con2.channel, 2);
  raw.send(encodeV1(T1.CONACK, 2));
  await raw.next((m) => m.type === T1.DATA && m.channel === 2);
  raw.send(encodeV1(T1.DATA, 2, HTTP_OK('v1-two')));
  assert.equal((await third).body, 'v1-two');
  // DATA on a channel it does not have: FIN.
  raw.send(encodeV1(T1.DATA, 99, 'x'));
  const fin = await raw.next((m) => m.type === T1.FIN && m.channel === 99);
  assert.equal(fin.version, 1);
  raw.close();
  await raw.closed;
});

// --- Shutdown -------------------------------------------------------------------------------

test('36: on SIGTERM connected clients get close code 1001 and exposrd exits 0', async () => {
  const own = await startExposrd({ config: (port) => config(port, { ingress: false }) });
  const client = await TunnelClient.create({ port: own.port, target: targetUrl, retryDelay: 200,
    ingressHttp: false });
  await client.connect();
  const closes = [];
  client.on('close', (slot, code, reason) => closes.push([code, reason]));
  const r = await own.stop();
  assert.equal(r.code, 0, r.stderr);
  await waitFor(() => closes.length === 2, { what: 'both closed' });
  assert.deepEqual(closes, [[1001, 'Server shutting down'], [1001, 'Server shutting down']]);
  await client.stop();
});

