// The 2021 clients, exposr 0.1 to 0.4 (docs/legacy-clients.md §14), against the real exposrd: the
// checklist L1-L17 of §14.8, each test named after its item. The clients are emulated
// by lib/legacy-client.mjs (their requests and their multiplex v1), the 0.10 client by
// lib/client.mjs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, request, startExposrd, tunnelConfig, waitFor } from './lib/exposrd.mjs';
import { TunnelClient, apiCall } from './lib/client.mjs';
import { LegacyClient, V1 } from './lib/legacy-client.mjs';
import { connectRaw } from './lib/rawmux.mjs';

const SOURCE = process.env.EXPOSRD_SOURCE_DIR;
const PAGE = 'hello from the target\n';

// The service behind the tunnels: a page on /, n bytes on /bytes/<n>, the length of a
// body it reads slowly on /length, and a page after which it closes on /close.
function startTarget() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    if (req.url === '/length') {
      req.pause();
      setTimeout(() => req.resume(), 1000);
    }
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const m = req.url.match(/^\/bytes\/(\d+)$/);
      if (m) {
        res.writeHead(200, { 'Content-Length': Number(m[1]) });
        res.end(Buffer.alloc(Number(m[1]), 'x'));
      } else if (req.url === '/length') {
        res.end(String(Buffer.concat(chunks).length));
      } else if (req.url === '/close') {
        res.writeHead(200, { 'Content-Length': Buffer.byteLength(PAGE), Connection: 'close' });
        res.end(PAGE);
      } else {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(PAGE) });
        res.end(PAGE);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let srv;
let target;
let targetUrl; // as typed on the command line: no trailing slash
let counter = 0;
const clients = [];

before(async () => {
  srv = await startExposrd({ config: (port) => tunnelConfig(port) });
  target = await startTarget();
  targetUrl = `http://127.0.0.1:${target.address().port}`;
});

after(async () => {
  for (const c of clients) await c.stop();
  target.close();
  const r = await srv.stop();
  assert.equal(r.code, 0, `exposrd exit ${r.code} ${r.signal}:\n${r.stderr}`);
});

function newId(prefix) {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

function legacy(opts = {}, server = srv) {
  const c = new LegacyClient({ server: `http://127.0.0.1:${server.port}/`, ...opts });
  clients.push(c);
  return c;
}

function ingressGet(id, pathname = '/', port = srv.port) {
  return request(port, { path: pathname, headers: { Host: `${id}.localhost:${port}` } });
}

// An account and its token, as the 0.10 client gets them.
async function account(port = srv.port) {
  const reg = await apiCall(port, 'POST', '/v1/account');
  const tok = await apiCall(port, 'GET', `/v1/account/${reg.json.account_id}/token`);
  return { id: reg.json.account_id, token: tok.json.token };
}

// `promise`, or a failure naming `what` after `ms`.
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const call = (acct, method, p, body) => apiCall(srv.port, method, p, { token: acct.token, body });

// What the client sent, as "METHOD path body".
const sent = (c) => c.requests.map((r) => `${r.method} ${r.path}${r.body !== undefined ? ` ${r.body}` : ''}`);

async function tunnelSession(version, { ingress } = {}) {
  const id = newId(`l${version.replaceAll('.', '')}`);
  const c = legacy({ version, ...(ingress ? { ingress } : {}) });
  await c.tunnel(targetUrl, id);
  return { c, id };
}

// Checks the request sequence of `tunnel` up to the connection (docs/legacy-clients.md §14.2).
function assertTunnelSequence(c, id, putBody, patchBody) {
  const acct = c.requests[0].json.account_id;
  assert.deepEqual(sent(c), [
    'POST /v1/account {}',
    `GET /v1/account/${acct}/token`,
    `PUT /v1/tunnel/${id} ${JSON.stringify(putBody)}`,
    `PATCH /v1/tunnel/${id} ${JSON.stringify(patchBody)}`,
  ]);
  assert.deepEqual(c.requests.map((r) => r.status), [201, 201, 200, 200]);
  const patched = c.requests[3].json;
  // The websocket URL comes from the cached PATCH response, not from a GET.
  assert.equal(c.upgrades[0].url, patched.endpoints.ws.url);
  assert.match(c.upgrades[0].url, new RegExp(`^ws://127\\.0\\.0\\.1:${srv.port}/v1/endpoint/ws/${id}\\?token=[A-Za-z0-9_-]{86}$`));
  assert.equal(c.upgrades[0].status, 101);
}

async function assertServesAndDeletes(c, id) {
  const page = await ingressGet(id, '/');
  assert.equal(page.status, 200, page.body);
  assert.equal(page.body, PAGE);
  await c.stop();
  const last = c.requests.at(-1);
  assert.equal(`${last.method} ${last.path} ${last.status}`, `DELETE /v1/tunnel/${id} 204`);
  // The websocket was closed before the DELETE: the tunnel is gone.
  assert.equal((await ingressGet(id)).status, 404);
}

test('L1: client 0.1.0 `tunnel http://127.0.0.1:PORT NAME` connects, serves a GET, Ctrl-C DELETEs', async () => {
  const { c, id } = await tunnelSession('0.1.0');
  assertTunnelSequence(c, id, { ingress: { http: { enabled: true } } },
    { ingress: { http: { enabled: true } }, upstream: { url: `${targetUrl}/` } });
  assert.ok(c.requests.every((r) => r.json !== undefined), 'every answer is JSON');
  await assertServesAndDeletes(c, id);
});

test('L2: clients 0.2.0, 0.2.2, 0.3.0 and 0.4.0 connect with their merged PATCH, serve, DELETE', async () => {
  const upstream = { url: `${targetUrl}/` };
  const expected = {
    '0.2.0': { upstream, endpoints: { ws: { enabled: true } }, ingress: { http: { enabled: true } } },
    '0.2.2': { upstream, endpoints: { ws: { enabled: true } }, ingress: { http: { enabled: true } } },
    '0.3.0': { upstream, endpoints: { ws: { enabled: true } }, ingress: { http: { enabled: true } } },
    '0.4.0': { upstream, endpoints: { ws: { enabled: true } }, ingress: { http: { enabled: true } } },
  };
  for (const [version, patch] of Object.entries(expected)) {
    const { c, id } = await tunnelSession(version);
    assertTunnelSequence(c, id, {}, patch);
    // 0.2+ connects to the upstream.url of the answer.
    assert.equal(c.requests[3].json.upstream.url, `${targetUrl}/`);
    await assertServesAndDeletes(c, id);
  }
});

test('L2: 0.3.0 with `--ingress sni` on a server without SNI ingress still connects (C3(b))', async () => {
  const { c, id } = await tunnelSession('0.3.0', { ingress: ['sni'] });
  assertTunnelSequence(c, id, {},
    { upstream: { url: `${targetUrl}/` }, endpoints: { ws: { enabled: true } }, ingress: { sni: { enabled: true } } });
  const t = c.requests[3].json;
  assert.deepEqual(t.ingress.sni, {});
  assert.deepEqual(t.target, { url: `${targetUrl}/` });
  assert.equal(t.connection.connected, false);
  await waitFor(async () => (await c.call('GET', `v1/tunnel/${id}`)).json.connection.connected,
    { what: 'the 0.3.0 client to show as connected' });
  await c.stop();
});

test('L3: PATCH upstream sets target (a 0.10 GET shows it); PATCH endpoints.ws sets transport.ws', async () => {
  const acct = await account();
  const id = newId('l3');
  await call(acct, 'PUT', `/v1/tunnel/${id}`, {});
  const r = await call(acct, 'PATCH', `/v1/tunnel/${id}`, { upstream: { url: 'http://x.test/' } });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json.target, { url: 'http://x.test/' });
  assert.deepEqual(r.json.upstream, { url: 'http://x.test/' });
  const got = await call(acct, 'GET', `/v1/tunnel/${id}`);
  assert.deepEqual(got.json.target, { url: 'http://x.test/' });
  assert.equal(got.json.transport.ws.enabled, false);
  const ws = await call(acct, 'PATCH', `/v1/tunnel/${id}`, { endpoints: { ws: { enabled: true } } });
  assert.equal(ws.status, 200, ws.body);
  assert.equal(ws.json.transport.ws.enabled, true);
  assert.equal(ws.json.endpoints.ws.enabled, true);
  assert.equal((await call(acct, 'GET', `/v1/tunnel/${id}`)).json.transport.ws.enabled, true);
  // And back through the new names: the old ones follow.
  const cleared = await call(acct, 'PATCH', `/v1/tunnel/${id}`, { target: { url: null } });
  assert.deepEqual(cleared.json.upstream, {});
});

test('L4: 400 BAD_INPUT for both names, a bad upstream.url and an unknown endpoints key', async () => {
  const acct = await account();
  const id = newId('l4');
  await call(acct, 'PUT', `/v1/tunnel/${id}`, {});
  const cases = [
    [{ upstream: { url: 'http://a.test/' }, target: { url: 'http://b.test/' } }, '"upstream" and "target" are mutually exclusive'],
    [{ upstream: { url: 'no uri' } }, '"upstream.url" must be a valid uri'],
    [{ endpoints: { token: 'x' } }, '"endpoints.token" is not allowed'],
    [{ endpoints: { ws: { enabled: true } }, transport: { ws: { enabled: false } } }, '"endpoints.ws" and "transport.ws" are mutually exclusive'],
  ];
  for (const [body, field] of cases) {
    for (const method of ['PUT', 'PATCH']) {
      const r = await call(acct, method, `/v1/tunnel/${id}`, body);
      assert.equal(r.status, 400, `${method} ${JSON.stringify(body)}: ${r.body}`);
      assert.equal(r.body, JSON.stringify({ error: 'BAD_INPUT', field }));
    }
  }
  // Nothing was stored by the refused requests.
  assert.deepEqual((await call(acct, 'GET', `/v1/tunnel/${id}`)).json.target, {});
});

test('L5: every PUT/PATCH/GET answer has endpoints and upstream; endpoints.ws.url while ws is disabled', async () => {
  const acct = await account();
  const id = newId('l5');
  const answers = [
    await call(acct, 'PUT', `/v1/tunnel/${id}`, {}),
    await call(acct, 'PATCH', `/v1/tunnel/${id}`, { transport: { ws: { enabled: false } } }),
    await call(acct, 'GET', `/v1/tunnel/${id}`),
  ];
  for (const r of answers) {
    assert.equal(r.status, 200, r.body);
    const t = r.json;
    assert.equal(t.transport.ws.enabled, false);
    assert.deepEqual(Object.keys(t.endpoints), ['ws'], 'no max_connections, no ssh (no SSH transport)');
    assert.equal(t.endpoints.ws.enabled, false);
    const token = new URL(t.transport.ws.url).searchParams.get('t');
    assert.match(token, /^[A-Za-z0-9_-]{86}$/);
    assert.equal(t.endpoints.ws.url, `ws://127.0.0.1:${srv.port}/v1/endpoint/ws/${id}?token=${token}`);
    assert.deepEqual(t.upstream, {});
    assert.deepEqual(t.upstream, t.target);
  }
  // The key order of §14.5's example.
  assert.deepEqual(Object.keys(answers[2].json),
    ['id', 'connection', 'transport', 'endpoints', 'ingress', 'target', 'upstream', 'created_at']);
  // wss for an https request, like transport.ws.url.
  const https = await apiCall(srv.port, 'GET', `/v1/tunnel/${id}`,
    { token: acct.token, headers: { 'X-Forwarded-Proto': 'https' } });
  assert.match(https.json.endpoints.ws.url, new RegExp(`^wss://127\\.0\\.0\\.1:${srv.port}/v1/endpoint/ws/`));
});

test('L6: a legacy-shaped PATCH on a missing id creates it; an ordinary one is 404', async () => {
  const acct = await account();
  const id = newId('l6');
  const r = await call(acct, 'PATCH', `/v1/tunnel/${id}`,
    { upstream: { url: 'http://x.test/' }, endpoints: { ws: { enabled: true } } });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.id, id);
  assert.deepEqual(r.json.target, { url: 'http://x.test/' });
  const got = await call(acct, 'GET', `/v1/tunnel/${id}`);
  assert.equal(got.status, 200);
  assert.equal(got.json.transport.ws.enabled, true);
  const missing = newId('l6');
  const plain = await call(acct, 'PATCH', `/v1/tunnel/${missing}`, { ingress: { http: { enabled: true } } });
  assert.equal(plain.status, 404);
  assert.equal(plain.body, '{"error":"TUNNEL_NOT_FOUND"}');
  assert.equal((await call(acct, 'GET', `/v1/tunnel/${missing}`)).status, 404);
  // Someone else's tunnel stays theirs.
  const other = await account();
  const foreign = await call(other, 'PATCH', `/v1/tunnel/${id}`, { upstream: { url: 'http://y.test/' } });
  assert.equal(foreign.status, 403);
  assert.equal(foreign.body, '{"error":"PERMISSION_DENIED"}');
  assert.deepEqual((await call(acct, 'GET', `/v1/tunnel/${id}`)).json.target, { url: 'http://x.test/' });
  // The commands that rely on it: configure-tunnel … upstream-url and connect-tunnel on new ids.
  const c = legacy({ version: '0.4.0', account: acct.id });
  const configured = newId('l6');
  const t = await c.configureTunnel(configured, 'upstream-url', 'http://z.test/');
  assert.equal(t.id, configured);
  assert.deepEqual((await call(acct, 'GET', `/v1/tunnel/${configured}`)).json.target, { url: 'http://z.test/' });
  const connected = newId('l6');
  await c.connectTunnel(connected, targetUrl);
  assert.equal((await ingressGet(connected)).body, PAGE);
  await c.stop();
});

test('L7: without SNI a legacy PATCH asking for it is applied but for SNI; without upstream the C error remains', async () => {
  const acct = await account();
  const id = newId('l7');
  await call(acct, 'PUT', `/v1/tunnel/${id}`, {});
  const r = await call(acct, 'PATCH', `/v1/tunnel/${id}`,
    { upstream: { url: 'http://x.test/' }, ingress: { sni: { enabled: true } } });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json.target, { url: 'http://x.test/' });
  assert.deepEqual(r.json.ingress.sni, {});
  const plain = await call(acct, 'PATCH', `/v1/tunnel/${id}`, { ingress: { sni: { enabled: true } } });
  assert.equal(plain.status, 500);
  assert.equal(plain.body, '{"error":"UNKNOWN_ERROR","detailed":"ingress_administratively_disabled"}');
});

test('L7: on a server without HTTP ingress the 0.4.0 client still stores its target and connects', async () => {
  const own = await startExposrd({ config: (port) => tunnelConfig(port, { ingress: false }) });
  try {
    const id = newId('l7');
    const c = legacy({ version: '0.4.0' }, own);
    await c.tunnel(targetUrl, id);
    const patched = c.requests[3];
    assert.equal(patched.status, 200, JSON.stringify(patched.json));
    assert.deepEqual(patched.json.target, { url: `${targetUrl}/` });
    assert.deepEqual(patched.json.ingress, { http: {}, sni: {} });
    assert.equal(c.upgrades[0].status, 101);
    await c.stop();
  } finally {
    const r = await own.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});

test('L8: the legacy upgrade gets 101 without extensions; the first message is CON 0 (0001 0002 00000000 00000000)', async () => {
  const { c, id } = await tunnelSession('0.4.0');
  const up = c.upgrades[0];
  assert.equal(up.status, 101);
  assert.equal(up.headers['sec-websocket-extensions'], undefined, 'permessage-deflate is declined');
  assert.equal(up.headers['sec-websocket-protocol'], undefined);
  const page = await ingressGet(id, '/');
  assert.equal(page.body, PAGE);
  const first = c.frames.find((f) => f.dir === 'in');
  assert.equal(first.raw.toString('hex'), '000100020000000000000000');
  const ack = c.frames.find((f) => f.dir === 'out');
  assert.equal(ack.raw.toString('hex'), '000100030000000000000000');
  // Every message both ways is v1.
  assert.ok(c.frames.every((f) => f.version === 1));
  const data = c.frames.find((f) => f.dir === 'in' && f.type === V1.DATA);
  assert.equal(data.channel, 0);
  assert.match(data.raw.subarray(12).toString(), /^GET \/ HTTP\/1\.1\r\n/);
  await c.stop();
});

// The raw bytes of an upgrade on the legacy path, and how many reads they took.
function rawUpgrade(port, target) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => { s.destroy(); reject(new Error('no answer to the upgrade')); }, 5000);
    s.on('connect', () => s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`
      + 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n'
      + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
      + 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n'));
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => { clearTimeout(timer); resolve({ text: Buffer.concat(chunks).toString('latin1'), reads: chunks.length }); });
  });
}

test('L9: a wrong token on the legacy path is 401 PERMISSION_DENIED in one write; 0.4.0 connect-tunnel says so and exits', async () => {
  const acct = await account();
  const id = newId('l9');
  await call(acct, 'PUT', `/v1/tunnel/${id}`, {});
  const bad = await rawUpgrade(srv.port, `/v1/endpoint/ws/${id}?token=${'A'.repeat(86)}`);
  assert.equal(bad.reads, 1, 'head and body in one write');
  assert.match(bad.text, /^HTTP\/1\.1 401 Unauthorized\r\n/);
  assert.match(bad.text, /\r\nContent-Type: application\/json\r\n/);
  assert.match(bad.text, /\r\nContent-Length: 29\r\n/);
  assert.match(bad.text, /\r\nConnection: close\r\n/);
  assert.ok(bad.text.endsWith('\r\n\r\n{"error":"PERMISSION_DENIED"}'), bad.text);
  // Unknown tunnel, no token, the token under the new name: all JSON refusals.
  const unknown = await rawUpgrade(srv.port, `/v1/endpoint/ws/${newId('none')}?token=x`);
  assert.ok(unknown.text.startsWith('HTTP/1.1 404 ') && unknown.text.endsWith('{"error":"TUNNEL_NOT_FOUND"}'), unknown.text);
  const token = new URL((await call(acct, 'GET', `/v1/tunnel/${id}`)).json.transport.ws.url).searchParams.get('t');
  const asT = await rawUpgrade(srv.port, `/v1/endpoint/ws/${id}?t=${token}`);
  assert.ok(asT.text.startsWith('HTTP/1.1 401 ') && asT.text.endsWith('{"error":"PERMISSION_DENIED"}'), asT.text);

  // The real command: its PATCH answer's URL with a token that is no longer valid.
  const c = legacy({ version: '0.4.0', account: acct.id,
    rewriteEndpoint: (url) => url.replace(/token=[^&]+/, `token=${'B'.repeat(86)}`) });
  await assert.rejects(c.connectTunnel(id, targetUrl), /exited 1/);
  assert.equal(c.crashed, undefined, 'no crash');
  assert.equal(c.exitCode, 1);
  assert.deepEqual(c.output, ['Permission denied']);
  assert.equal(c.upgrades.length, 1);
  assert.equal(c.upgrades[0].status, 401);
  assert.deepEqual(c.upgrades[0].chunks, ['{"error":"PERMISSION_DENIED"}']);
  assert.deepEqual(sent(c).slice(1),
    [`PATCH /v1/tunnel/${id} ${JSON.stringify({ upstream: { url: `${targetUrl}/` }, endpoints: { ws: { enabled: true } }, ingress: { http: { enabled: true } } })}`]);
});

test('L10: at max_connections a legacy upgrade gets 503 TUNNEL_ALREADY_CONNECTED before the 101; `tunnel` then disconnects', async () => {
  const acct = await account();
  const id = newId('l10');
  await call(acct, 'PUT', `/v1/tunnel/${id}`, { target: { url: `${targetUrl}/` } });
  const raws = [];
  for (let i = 0; i < 2; i++) {
    const url = (await call(acct, 'GET', `/v1/tunnel/${id}`)).json.endpoints.ws.url;
    raws.push(await connectRaw(url));
  }
  assert.equal((await call(acct, 'GET', `/v1/tunnel/${id}`)).json.connection.connections, 2);
  const third = (await call(acct, 'GET', `/v1/tunnel/${id}`)).json.endpoints.ws.url;
  const refused = await rawUpgrade(srv.port, new URL(third).pathname + new URL(third).search);
  assert.equal(refused.reads, 1);
  assert.match(refused.text, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.ok(refused.text.endsWith('\r\n\r\n{"error":"TUNNEL_ALREADY_CONNECTED"}'), refused.text);
  // The two stay.
  assert.equal((await call(acct, 'GET', `/v1/tunnel/${id}`)).json.connection.connections, 2);
  assert.ok(raws.every((r) => r.closedAt === undefined));

  // The tunnel command: 503, then POST /disconnect, then everything again.
  const c = legacy({ version: '0.4.0', account: acct.id });
  await c.tunnel(targetUrl, id);
  assert.equal(c.upgrades[0].status, 503);
  assert.deepEqual(c.upgrades[0].chunks, ['{"error":"TUNNEL_ALREADY_CONNECTED"}']);
  const calls = sent(c).map((l) => l.split(' ').slice(0, 2).join(' '));
  assert.deepEqual(calls, [
    `GET /v1/account/${acct.id}/token`, `PUT /v1/tunnel/${id}`, `PATCH /v1/tunnel/${id}`,
    `POST /v1/tunnel/${id}/disconnect`,
    `GET /v1/account/${acct.id}/token`, `PUT /v1/tunnel/${id}`, `PATCH /v1/tunnel/${id}`,
  ]);
  assert.deepEqual(c.upgrades.map((u) => u.status), [503, 101], 'no 101 + close loop');
  await within(Promise.all(raws.map((r) => r.closed)), 5000, 'the disconnect to close both connections');
  assert.equal((await ingressGet(id)).body, PAGE);
  await c.stop();
});

test('L11: on the 0.12 path the probe marks a 0.4.0 connection v1; its first request runs on channel 0', async () => {
  const c = legacy({ version: '0.4.0',
    rewriteEndpoint: (url) => url.replace(/\/v1\/endpoint\/ws\/([^?]+)\?token=/, '/v1/tunnel/$1/ws-endpoint?t=') });
  const id = newId('l11');
  await c.tunnel(targetUrl, id);
  assert.match(c.upgrades[0].url, /\/ws-endpoint\?t=/);
  const page = await ingressGet(id, '/');
  assert.equal(page.body, PAGE);
  const inbound = c.frames.filter((f) => f.dir === 'in');
  assert.equal(inbound[0].raw.toString('hex'), '00020002000000000000000100000000', 'the v2 OPEN probe');
  assert.equal(c.frames.find((f) => f.dir === 'out').raw.toString('hex'), '000100030000000000000000');
  const data = inbound.find((f) => f.type === V1.DATA);
  assert.equal(data.version, 1);
  assert.equal(data.channel, 0);
  // The next request is a v1 CON for channel 1.
  assert.equal((await ingressGet(id, '/')).body, PAGE);
  const con = c.frames.filter((f) => f.dir === 'in' && f.version === 1 && f.type === V1.CON);
  assert.deepEqual(con.map((f) => f.channel), [1]);
  await c.stop();
});

test('L12: after POST /disconnect the old client is back within 1 s with a new token; the old one is refused', async () => {
  const { c, id } = await tunnelSession('0.4.0');
  const acct = { token: c.token };
  const firstUrl = c.upgrades[0].url;
  const before = c.requests.length;
  const back = new Promise((resolve) => c.once('closed', () => {
    const closedAt = Date.now();
    c.once('connected', () => resolve(Date.now() - closedAt));
  }));
  const r = await call(acct, 'POST', `/v1/tunnel/${id}/disconnect`, {});
  assert.equal(r.body, '{"result":true}');
  const took = await within(back, 5000, 'the client to reconnect');
  assert.ok(took < 1000, `reconnected after ${took} ms`);
  const again = sent(c).slice(before).filter((l) => !l.startsWith('POST'));
  assert.deepEqual(again, [`GET /v1/account/${c.account}/token`, `GET /v1/tunnel/${id}`]);
  assert.equal(c.upgrades.length, 2);
  assert.notEqual(c.upgrades[1].url, firstUrl);
  assert.equal(c.upgrades[1].status, 101);
  assert.equal((await ingressGet(id)).body, PAGE);
  const reused = await rawUpgrade(srv.port, new URL(firstUrl).pathname + new URL(firstUrl).search);
  assert.ok(reused.text.startsWith('HTTP/1.1 401 ') && reused.text.endsWith('{"error":"PERMISSION_DENIED"}'), reused.text);
  await c.stop();
});

test('L13: a second FIN on a closed channel gets no answer; large transfers with PAUSE/RESUME arrive whole', async () => {
  const { c, id } = await tunnelSession('0.4.0');
  // The target closes after its answer: the client sends FIN twice.
  assert.equal((await ingressGet(id, '/close')).body, PAGE);
  await waitFor(() => c.frames.filter((f) => f.dir === 'out' && f.type === V1.FIN && f.channel === 0).length === 2,
    { what: 'the client to send FIN 0 twice' });
  // A ping's pong comes after any answer to the FINs, on the same ordered connection.
  const pongs = c.pongs;
  c.ws.ping();
  await waitFor(() => c.pongs > pongs, { what: 'the pong after the FINs' });
  const after0 = c.frames.filter((f) => f.dir === 'in' && f.channel === 0 && f.type !== V1.CON && f.type !== V1.DATA);
  assert.ok(after0.length <= 1 && after0.every((f) => f.type === V1.FIN), `server answered: ${after0.map((f) => f.name)}`);
  assert.ok(c.ws, 'the websocket is still open');

  // A big download to a reader that waits: the server pauses the channel.
  const size = 16 * 1024 * 1024;
  const download = await within(new Promise((resolve, reject) => {
    const s = net.connect(srv.port, '127.0.0.1');
    let got = 0;
    s.on('connect', () => {
      s.write(`GET /bytes/${size} HTTP/1.1\r\nHost: ${id}.localhost:${srv.port}\r\nConnection: close\r\n\r\n`);
      s.pause();
      setTimeout(() => s.resume(), 1500);
    });
    s.on('data', (d) => { got += d.length; });
    s.on('error', reject);
    s.on('close', () => resolve(got));
  }), 20000, 'the download through the tunnel');
  assert.ok(download > size, `received ${download} bytes`);
  const pauses = c.frames.filter((f) => f.dir === 'in' && f.type === V1.PAUSE);
  const resumes = c.frames.filter((f) => f.dir === 'in' && f.type === V1.RESUME);
  assert.ok(pauses.length > 0 && resumes.length > 0, 'server PAUSE and RESUME');

  // A big upload to a target that reads late: the client pauses, the server holds back.
  const upload = Buffer.alloc(16 * 1024 * 1024, 'y');
  const up = await request(srv.port, { method: 'POST', path: '/length', body: upload,
    headers: { Host: `${id}.localhost:${srv.port}`, 'Content-Length': upload.length }, timeout: 20000 });
  assert.equal(up.body, String(upload.length));
  assert.ok(c.frames.some((f) => f.dir === 'out' && f.type === V1.PAUSE), 'client PAUSE');
  assert.ok(c.frames.some((f) => f.dir === 'out' && f.type === V1.RESUME), 'client RESUME');
  assert.equal((await ingressGet(id, '/')).body, PAGE);
  await c.stop();
});

test('C9: the client\'s pings are answered and the connection stays', async () => {
  const c = legacy({ version: '0.4.0', pingInterval: 100 });
  const id = newId('ping');
  await c.tunnel(targetUrl, id);
  const ws = c.ws;
  await waitFor(() => c.pongs >= 5, { what: 'five pongs to the client\'s pings' });
  assert.equal(c.ws, ws, 'no reconnect: every ping was answered before the next');
  assert.equal(c.upgrades.length, 1);
  await c.stop();
});

test('L14: tunnel-info of 0.2.0 and 0.4.0 prints; account, tunnel, disconnect and delete commands of 0.1.0 and 0.4.0 succeed', async () => {
  for (const version of ['0.1.0', '0.4.0']) {
    const c = legacy({ version });
    const created = await c.createAccount();
    assert.match(created.account_id, /^[CDEFHJKMNPRTVWXY2345689]{16}$/);
    const id = newId('l14');
    const t = await c.createTunnel(id);
    assert.equal(t.id, id);
    assert.deepEqual(sent(c).slice(-1), [`PUT /v1/tunnel/${id} ${version === '0.1.0' ? '{"ingress":{"http":{"enabled":false}}}' : '{}'}`]);
    await c.disconnectTunnel(id);
    await c.deleteTunnel(id);
    assert.deepEqual(c.output, [`Created account ${created.account_id_hr}`, `Created tunnel ${id}`,
      `Disconnected tunnel ${id}`, `Deleted tunnel ${id}`]);
    assert.equal((await c.call('GET', `v1/tunnel/${id}`)).status, 404);
  }
  for (const version of ['0.2.0', '0.4.0']) {
    const c = legacy({ version });
    await c.createAccount();
    const id = newId('l14');
    await c.createTunnel(id);
    await c.configureTunnel(id, 'upstream-url', `${targetUrl}/`);
    await c.configureTunnel(id, 'ingress-http', 'on');
    const lines = await c.tunnelInfo(id);
    assert.ok(lines.includes(`Upstream target: ${targetUrl}/`), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('Transport endpoint ws: ')), lines.join('\n'));
    assert.ok(lines.includes(`Ingress http: http://${id}.localhost:${srv.port}/`), lines.join('\n'));
    if (version === '0.4.0') assert.ok(lines.includes('  altnames: '), lines.join('\n'));
  }
});

test('L15: a 0.4.0 client and a 0.10 client on one tunnel both stay connected and both carry requests', async () => {
  const v2 = await TunnelClient.create({ port: srv.port, target: `${targetUrl}/`, connections: 1 });
  let v2Channels = 0;
  v2.on('channel', () => { v2Channels += 1; });
  await v2.connect();
  const c = legacy({ version: '0.4.0', account: v2.account });
  await c.tunnel(targetUrl, v2.id);
  assert.equal((await v2.tunnel()).connection.connections, 2);
  const results = [];
  for (let i = 0; i < 12; i++) results.push(await ingressGet(v2.id, '/'));
  assert.ok(results.every((r) => r.status === 200 && r.body === PAGE), results.map((r) => r.status).join());
  const v1Channels = c.frames.filter((f) => f.dir === 'in' && f.type === V1.CON).length;
  assert.ok(v1Channels >= 3 && v2Channels >= 3, `v1 ${v1Channels}, v2 ${v2Channels} channels`);
  assert.equal(v1Channels + v2Channels, 12);
  // Concurrent ones too.
  const burst = await Promise.all(Array.from({ length: 10 }, () => ingressGet(v2.id, '/bytes/100000')));
  assert.ok(burst.every((r) => r.status === 200 && r.body.length === 100000));
  assert.equal(v2.openCount, 1);
  assert.ok(c.ws);
  await c.stop();
  await v2.stop();
});

test('L16: the 0.10 view is unchanged but for endpoints and upstream, and the 0.10 client is served', async () => {
  const acct = await account();
  const id = newId('l16');
  const r = await call(acct, 'PUT', `/v1/tunnel/${id}`, {});
  assert.equal(r.status, 200);
  const { endpoints, upstream, ...rest } = r.json;
  const token = new URL(rest.transport.ws.url).searchParams.get('t');
  // §12 item 6, exactly.
  assert.equal(JSON.stringify(rest), JSON.stringify({
    id,
    connection: { connected: false, connections: 0 },
    transport: { max_connections: 2, ws: { enabled: false, url: `ws://127.0.0.1:${srv.port}/v1/tunnel/${id}/ws-endpoint?t=${token}` } },
    ingress: { http: {}, sni: {} },
    target: {},
    created_at: rest.created_at,
  }));
  assert.deepEqual(upstream, {});
  assert.deepEqual(endpoints, { ws: { enabled: false, url: `ws://127.0.0.1:${srv.port}/v1/endpoint/ws/${id}?token=${token}` } });
  // §12 item 35 with the 0.10-style client (items 17-34 are transport_ws.test.mjs).
  const client = await TunnelClient.create({ port: srv.port, target: `${targetUrl}/` });
  const frames = [];
  client.on('frame', (dir, slot, buf) => frames.push([dir, buf]));
  await client.connect();
  assert.equal((await client.tunnel()).connection.connections, 2);
  assert.equal((await ingressGet(client.id)).body, PAGE);
  assert.equal(frames.find(([dir]) => dir === 'in')[1].toString('hex'), '00020002000000000000000100000000');
  await client.stop();
});

test('driver: a refusal without a JSON body naming a string error is a crash, an empty one a silent exit (C7)', async () => {
  const bodies = ['Unauthorized', '{"error":401}', ''];
  const server = http.createServer();
  server.on('upgrade', (req, socket) => {
    const body = bodies[Number(new URL(req.url, 'http://x').searchParams.get('token'))];
    socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  });
  server.on('request', (req, res) => {
    // Just enough of the API for connect-tunnel: the token and the PATCH.
    const token = req.url.match(/^\/(\d)\//)[1];
    res.writeHead(req.method === 'GET' ? 201 : 200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(req.method === 'GET' ? { token: 'dA==' }
      : { endpoints: { ws: { url: `ws://127.0.0.1:${server.address().port}/v1/endpoint/ws/x?token=${token}` } }, upstream: { url: 'http://127.0.0.1:9/' } }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const outcome = [];
    for (let i = 0; i < bodies.length; i++) {
      const c = new LegacyClient({ server: `http://127.0.0.1:${server.address().port}/${i}/`, account: 'A' });
      await c.connectTunnel('x', 'http://127.0.0.1:9').catch(() => {});
      outcome.push([c.crashed?.name, c.exitCode]);
    }
    assert.deepEqual(outcome, [['SyntaxError', undefined], ['ReferenceError', undefined], [undefined, 0]]);
  } finally {
    server.close();
  }
});

test('L17: the seed quick start: its flags, client 0.1.0 `tunnel http://127.0.0.1:PORT example`, curl --resolve', async () => {
  const port = await freePort();
  const seed = await startExposrd({
    port,
    args: ['--config', path.join(SOURCE, 'config/exposrd.yaml'), '--log-level', 'warn',
      '--bind-address', '127.0.0.1', '--api-port', String(port), '--ingress-http-port', String(port),
      '--api-url', `http://127.0.0.1:${port}`, '--allow-registration',
      '--http-ingress-domain', `http://localhost:${port}`],
  });
  try {
    const c = legacy({ version: '0.1.0' }, seed);
    await c.tunnel(targetUrl, 'example');
    assert.equal(c.requests[3].json.ingress.http.url, `http://example.localhost:${port}/`);
    const page = await new Promise((resolve, reject) => {
      execFile('curl', ['-sS', '--max-time', '10', '--resolve', `example.localhost:${port}:127.0.0.1`,
        `http://example.localhost:${port}`], (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
    });
    assert.equal(page, PAGE);
    await c.stop();
    assert.equal(`${c.requests.at(-1).method} ${c.requests.at(-1).path}`, 'DELETE /v1/tunnel/example');
  } finally {
    const r = await seed.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});
