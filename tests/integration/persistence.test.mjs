// Persistent storage (docs/storage.md §8.1, docs/configuration.md §9, docs/compatibility.md §12 items 67-68): accounts and tunnels kept in
// a real redis-server and in an SQLite file survive a restart of exposrd, records written
// by exposrd 0.12 are read, a Redis outage leaves connected tunnels carrying traffic and
// the API answering 503 until Redis is back, an unreachable Redis stops exposrd at start,
// and --storage-url / --redis-url / EXPOSR_STORAGE_URL pick the storage module.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { admin, api, assertJson, newAccount, newTunnel } from './lib/api.mjs';
import { TunnelClient } from './lib/client.mjs';
import { freePort, request, runExposrd, startExposrd, waitFor, writeConfig } from './lib/exposrd.mjs';
import { startRedis } from './lib/redis.mjs';
import { onceWithin } from './lib/deadline.mjs';

const ADMIN_KEY = 'persistence-admin-key';
const UNAVAILABLE = { error: 'UNKNOWN_ERROR', details: 'storage_unavailable' };

// ---- cleanup: every process and directory a test made goes, also when it fails ----------

const cleanups = [];
const defer = (fn) => cleanups.push(fn);

afterEach(async () => {
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (e) {
      console.log(`# cleanup failed: ${e.message}`);
    }
  }
});

function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposrd-persist-'));
  defer(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function redisServer(options) {
  const redis = await startRedis(options);
  defer(() => redis.remove());
  return redis;
}

/** exposrd, stopped at the end of the test unless the test stopped it already. */
async function exposrd(options) {
  const srv = await startExposrd(options);
  defer(() => srv.stop({ signal: 'SIGKILL' }));
  return srv;
}

/** A local HTTP target that answers `target <method> <path>`. */
async function httpTarget() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`target ${req.method} ${req.url}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await onceWithin(server, 'listening');
  defer(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  return `http://127.0.0.1:${server.address().port}`;
}

async function tunnelClient(options) {
  const client = new TunnelClient(options);
  defer(() => client.stop());
  return client;
}

// ---- configuration ---------------------------------------------------------------------

/** API (with registration), HTTP ingress on localhost, ws transport, admin API, `storage`. */
function config(storage, { adminPort, level = 'warn' } = {}) {
  return (port) => ({
    log: { level },
    http: { bind: '127.0.0.1' },
    modules: {
      ...storage,
      'api-v1': { port, 'allow-registration': true },
      'ingress-http': { url: `http://localhost:${port}`, port },
      'transport-ws': { port },
      ...(adminPort ? { 'admin-api': { port: adminPort, key: ADMIN_KEY } } : {}),
    },
  });
}

/** A request through the HTTP ingress for tunnel `id`. */
function viaIngress(port, id, urlPath = '/') {
  return request(port, { path: urlPath, headers: { host: `${id}.localhost:${port}` }, timeout: 5000 });
}

// ---- the records of docs/storage.md §8.1, as exposrd 0.12 writes them ----------------------

const TOKEN_012 = crypto.randomBytes(64).toString('base64url');
const ACCOUNT_012 = '{"accountId":"MNF4P6Y6M2MRRVCT","id":"MNF4P6Y6M2MRRVCT",'
  + '"created_at":"2024-02-01T10:00:00.000Z","updated_at":"2024-02-10T12:00:00.000Z",'
  + '"tunnels":["my-tunnel"],'
  + '"status":{"disabled":false}}';
const TUNNEL_012 = `{"transport":{"token":"${TOKEN_012}","max_connections":1,"ws":{"enabled":true},"ssh":{"enabled":false}},`
  + '"ingress":{"http":{"enabled":true,"url":"http://my-tunnel.localhost:8080/","urls":["http://my-tunnel.localhost:8080/"],"alt_names":[]},'
  + '"sni":{"enabled":false,"urls":[]}},'
  + '"target":{"url":"http://example.com/"},'
  + '"id":"my-tunnel","account":"MNF4P6Y6M2MRRVCT",'
  + '"created_at":"2024-02-10T12:34:56.789Z","updated_at":"2024-02-10T12:35:01.002Z"}';

/** The key order of a JSON value, recursively: what "the same form" means here. */
function shape(value) {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') return Object.entries(value).map(([k, v]) => [k, shape(v)]);
  return typeof value;
}

// ---- shared by the Redis and SQLite restarts -------------------------------------------

const TUNNEL_BODY = {
  target: { url: 'http://example.com/' },
  ingress: { http: { enabled: true } },
  transport: { ws: { enabled: true } },
};

/** Creates an account and a tunnel, reads them back as a user would. */
async function populate(srv, tunnelId) {
  const account = await newAccount(srv.port);
  const put = await newTunnel(srv.port, account, tunnelId, TUNNEL_BODY);
  const got = await api(srv.port, 'GET', `/v1/tunnel/${tunnelId}`, { token: account.token });
  assert.equal(got.status, 200, got.body);
  assert.deepEqual(got.json, put);
  assert.deepEqual(got.json.target, { url: 'http://example.com/' });
  return { account, tunnel: got.json };
}

/** What a user checks after a restart: token, tunnel, the account's list (admin API). */
async function assertReadBack(srv, adminPort, { account, tunnel }) {
  const tok = await api(srv.port, 'GET', `/v1/account/${account.hr}/token`);
  assertJson(tok, 201, { token: account.token });
  const got = await api(srv.port, 'GET', `/v1/tunnel/${tunnel.id}`, { token: account.token });
  assert.equal(got.status, 200, got.body);
  // Same port as before the restart, not connected: the whole object is the same.
  assert.deepEqual(got.json, tunnel);
  const acc = await waitFor(async () => {
    const r = await admin(adminPort, 'GET', `/v1/admin/account/${account.id}`, ADMIN_KEY);
    return r.status === 200 && r;
  }, { timeout: 5000, what: 'the admin API' });
  assert.deepEqual(acc.json.tunnels, [tunnel.id]);
  assert.equal(acc.json.account_id, account.id);
}

// ---- 1. Redis ---------------------------------------------------------------------------

test('Redis: accounts and tunnels survive a restart, stored as account:<id> / tunnel:<id> in 0.12 form', async () => {
  const redis = await redisServer();
  const adminPort = await freePort();
  const cfg = config({ 'storage-redis': { url: redis.url } }, { adminPort });
  const first = await exposrd({ config: cfg });
  const data = await populate(first, 'persist-redis');
  const stopped = await first.stop();
  assert.equal(stopped.code, 0, stopped.stderr);

  // §8.1, §12 item 67: exactly these keys, no TTL, the records in 0.12's field order.
  const keys = (await redis.command('KEYS', '*')).sort();
  assert.deepEqual(keys, [`account:${data.account.id}`, 'tunnel:persist-redis']);
  for (const key of keys) assert.equal(await redis.command('TTL', key), -1, `TTL of ${key}`);
  const account = JSON.parse(await redis.command('GET', `account:${data.account.id}`));
  const tunnel = JSON.parse(await redis.command('GET', 'tunnel:persist-redis'));
  assert.deepEqual(shape(account), shape(JSON.parse(ACCOUNT_012)));
  assert.deepEqual(shape(tunnel), shape(JSON.parse(TUNNEL_012)));
  assert.equal(account.accountId, data.account.id);
  assert.equal(account.id, data.account.id);
  assert.deepEqual(account.tunnels, ['persist-redis']);
  assert.deepEqual(account.status, { disabled: false });
  assert.equal(tunnel.id, 'persist-redis');
  assert.equal(tunnel.account, data.account.id);
  assert.deepEqual(tunnel.target, { url: 'http://example.com/' });
  assert.equal(tunnel.created_at, data.tunnel.created_at);
  assert.deepEqual(tunnel.ingress.http, data.tunnel.ingress.http);
  assert.deepEqual(tunnel.transport.ws, { enabled: true });
  assert.equal(new URL(data.tunnel.transport.ws.url).searchParams.get('t'), tunnel.transport.token);

  // §12 item 68 in time rather than space: a new exposrd on the same Redis.
  const second = await exposrd({ config: cfg, port: first.port });
  await assertReadBack(second, adminPort, data);
  const again = await second.stop();
  assert.equal(again.code, 0, again.stderr);
});

// ---- 2. records written by exposrd 0.12 -------------------------------------------------

test('Redis: the records of exposrd 0.12 (§8.1) are read, and the tunnel connects and serves', async () => {
  const redis = await redisServer();
  assert.equal(await redis.command('SET', 'account:MNF4P6Y6M2MRRVCT', ACCOUNT_012), 'OK');
  assert.equal(await redis.command('SET', 'tunnel:my-tunnel', TUNNEL_012), 'OK');
  const target = await httpTarget();
  const srv = await exposrd({ config: config({ 'storage-redis': { url: redis.url } }) });

  const tok = await api(srv.port, 'GET', '/v1/account/MNF4-P6Y6-M2MR-RVCT/token');
  assertJson(tok, 201, { token: 'TU5GNFA2WTZNMk1SUlZDVA==' });
  const token = tok.json.token;
  const got = await api(srv.port, 'GET', '/v1/tunnel/my-tunnel', { token });
  assert.equal(got.status, 200, got.body);
  assert.equal(got.json.id, 'my-tunnel');
  assert.deepEqual(got.json.target, { url: 'http://example.com/' });
  assert.equal(got.json.created_at, '2024-02-10T12:34:56.789Z');
  assert.deepEqual(got.json.ingress.http, {
    enabled: true,
    url: 'http://my-tunnel.localhost:8080/',
    urls: ['http://my-tunnel.localhost:8080/'],
    alt_names: [],
  });
  assert.deepEqual(got.json.connection, { connected: false, connections: 0 });
  assert.equal(got.json.transport.ws.enabled, true);
  const wsUrl = new URL(got.json.transport.ws.url);
  assert.equal(wsUrl.pathname, '/v1/tunnel/my-tunnel/ws-endpoint');
  assert.equal(wsUrl.searchParams.get('t'), TOKEN_012, 'the ws URL carries the stored token');

  // The client connects with the ws URL the API hands out (first of all the stored token).
  const client = await tunnelClient({ port: srv.port, target, tunnelId: 'my-tunnel', account: 'MNF4P6Y6M2MRRVCT' });
  client.token = token;
  const wsUrls = [];
  client.on('open', (slot, ws) => wsUrls.push(new URL(ws.url).searchParams.get('t')));
  await client.connect();
  assert.equal(wsUrls[0], TOKEN_012, 'the first websocket used the stored token');
  const res = await viaIngress(srv.port, 'my-tunnel', '/from-012');
  assert.equal(res.status, 200, res.body);
  assert.equal(res.body, 'target GET /from-012');

  // The record is still one exposrd 0.12 reads: same form, same account.
  const stored = JSON.parse(await redis.command('GET', 'tunnel:my-tunnel'));
  assert.deepEqual(shape(stored), shape(JSON.parse(TUNNEL_012)));
  assert.equal(stored.account, 'MNF4P6Y6M2MRRVCT');
  assert.deepEqual(stored.target, { url: 'http://example.com/' });
  assert.notEqual(stored.transport.token, TOKEN_012, 'a used token is replaced (§1.4)');
});

// ---- 3. SQLite -------------------------------------------------------------------------

test('SQLite: accounts and tunnels survive a restart', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'exposr.sqlite');
  const adminPort = await freePort();
  const cfg = config({ 'storage-sqlite': { url: `sqlite://${file}` } }, { adminPort });
  const first = await exposrd({ config: cfg });
  const data = await populate(first, 'persist-sqlite');
  const stopped = await first.stop();
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(fs.statSync(file).size > 0, 'the SQLite file holds data');

  const second = await exposrd({ config: cfg, port: first.port });
  await assertReadBack(second, adminPort, data);
  const again = await second.stop();
  assert.equal(again.code, 0, again.stderr);
});

// ---- 4. Redis goes away and comes back while exposrd runs ----------------------------------

test('Redis outage: connected tunnels keep serving, the API answers 503, all is back after', async () => {
  const redis = await redisServer({ appendonly: true });
  const target = await httpTarget();
  const srv = await exposrd({ config: config({ 'storage-redis': { url: redis.url } }, { level: 'info' }) });
  const client = await tunnelClient({ port: srv.port, target, tunnelId: 'outage-tunnel' });
  await client.setup();
  await client.connect();
  const before = await client.tunnel();
  assert.equal(before.connection.connected, true);
  const other = await newTunnel(srv.port, { token: client.token }, 'outage-other', { target: { url: 'http://example.org/' } });
  const ok = await viaIngress(srv.port, 'outage-tunnel', '/before');
  assert.equal(ok.status, 200, ok.body);
  const open = client.openCount;

  await redis.stop();
  const lost = `lost connection to ${redis.url}`;
  await waitFor(() => srv.stderr().includes(lost), { timeout: 5000, what: 'exposrd to notice Redis is gone' });

  // The connected tunnel keeps carrying traffic: connections and state live in memory.
  // (Checked at the end, so that a failure here does not hide how the rest behaves.)
  const duringOutage = [];
  for (let i = 0; i < 5; i++) {
    const res = await viaIngress(srv.port, 'outage-tunnel', `/during-${i}`);
    if (res.status !== 200 || res.body !== `target GET /during-${i}`) duringOutage.push(`${res.status} ${res.body}`);
  }

  // The API says the storage is unavailable, promptly.
  const token = client.token;
  const calls = [
    ['GET', '/v1/tunnel/outage-tunnel', { token }],
    ['PATCH', '/v1/tunnel/outage-tunnel', { token, body: { target: { url: 'http://during.example/' } } }],
    ['PUT', '/v1/tunnel/outage-new', { token, body: {} }],
    ['GET', `/v1/account/${client.account}/token`, {}],
  ];
  for (const [method, p, opts] of calls) {
    const t0 = Date.now();
    const res = await api(srv.port, method, p, opts);
    assert.ok(Date.now() - t0 < 3000, `${method} ${p} took ${Date.now() - t0} ms`);
    assertJson(res, 503, UNAVAILABLE);
  }
  assert.equal(client.openCount, open, 'the websockets stayed open');

  // Down long enough for several reconnect attempts (back-off from 100 ms), none logged.
  await sleep(1500);
  await redis.restart();
  const restored = `connection to ${redis.url} restored`;
  await waitFor(() => srv.stderr().includes(restored), { timeout: 10000, what: 'exposrd to reconnect to Redis' });

  // Everything written before the outage is there; nothing of the failed writes is.
  const after = await client.tunnel();
  assert.deepEqual(after.target, before.target);
  assert.equal(after.created_at, before.created_at);
  assert.deepEqual(after.ingress, before.ingress);
  const otherAfter = await api(srv.port, 'GET', '/v1/tunnel/outage-other', { token });
  assert.equal(otherAfter.status, 200, otherAfter.body);
  assert.deepEqual(otherAfter.json.target, other.target);
  assert.equal(otherAfter.json.created_at, other.created_at);
  assert.equal(await redis.command('EXISTS', 'tunnel:outage-new'), 0);

  // New writes work.
  const patched = await api(srv.port, 'PATCH', '/v1/tunnel/outage-tunnel', { token, body: { target: { url: 'http://after.example/' } } });
  assert.equal(patched.status, 200, patched.body);
  assert.deepEqual(patched.json.target, { url: 'http://after.example/' });
  const created = await newTunnel(srv.port, { token }, 'outage-new', {});
  assert.equal(created.id, 'outage-new');
  assert.deepEqual(JSON.parse(await redis.command('GET', `account:${client.account.replaceAll('-', '')}`)).tunnels,
    ['outage-tunnel', 'outage-other', 'outage-new']);
  const res = await viaIngress(srv.port, 'outage-tunnel', '/after');
  assert.equal(res.status, 200, res.body);

  // One line for the loss, one for the recovery.
  const log = srv.stderr().split('\n');
  assert.equal(log.filter((l) => l.includes(lost)).length, 1, srv.stderr());
  assert.equal(log.filter((l) => l.includes(restored)).length, 1, srv.stderr());

  // A clean exit after all that (the sanitizer build checks for leaks here).
  await client.stop();
  const end = await srv.stop();
  assert.equal(end.code, 0, end.stderr);

  assert.deepEqual(duringOutage, [], 'requests through the ingress while Redis was down');
});

// ---- 5. Redis unreachable at start --------------------------------------------------------

test('Redis unreachable at start: exposrd exits non-zero with one line naming the URL', async () => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${await freePort()}`; // nothing listens there
  const file = writeConfig(config({ 'storage-redis': { url } })(port));
  defer(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));
  const t0 = Date.now();
  const res = await runExposrd(['--config', file], { timeout: 15000 });
  assert.equal(res.signal, null, res.stderr);
  assert.notEqual(res.code, 0, res.stderr);
  assert.ok(Date.now() - t0 < 10000, `exited after ${Date.now() - t0} ms`);
  const lines = res.stderr.split('\n').filter((l) => l.includes(url));
  assert.equal(lines.length, 1, res.stderr);
  assert.match(lines[0], /cannot connect/i);
});

// ---- 6. --storage-url, EXPOSR_STORAGE_URL, --redis-url -----------------------------------

/** The YAML says storage-memory: the command line or the environment decides. */
function memoryConfig(port) {
  return {
    log: { level: 'warn' },
    http: { bind: '127.0.0.1' },
    modules: { 'storage-memory': {}, 'api-v1': { port, 'allow-registration': true } },
  };
}

test('--storage-url sqlite:// and EXPOSR_STORAGE_URL select storage-sqlite on that file', async () => {
  const file = path.join(tempDir(), 'flag.sqlite');
  const url = `sqlite://${file}`;
  const first = await exposrd({ config: memoryConfig, args: ['--storage-url', url] });
  const account = await newAccount(first.port);
  const tunnel = await newTunnel(first.port, account, 'flag-sqlite', { target: { url: 'http://example.com/' } });
  const stopped = await first.stop();
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(fs.statSync(file).size > 0, 'the SQLite file was written');

  // The same file through the environment.
  const second = await exposrd({ config: memoryConfig, env: { EXPOSR_STORAGE_URL: url } });
  assertJson(await api(second.port, 'GET', `/v1/account/${account.id}/token`), 201, { token: account.token });
  const got = await api(second.port, 'GET', '/v1/tunnel/flag-sqlite', { token: account.token });
  assert.equal(got.status, 200, got.body);
  assert.deepEqual(got.json.target, tunnel.target);
  assert.equal(got.json.created_at, tunnel.created_at);
  assert.equal((await second.stop()).code, 0);

  // Without it, the YAML's memory storage: nothing of the above.
  const third = await exposrd({ config: memoryConfig });
  const none = await api(third.port, 'GET', `/v1/account/${account.id}/token`);
  assert.equal(none.status, 403, none.body);
});

test('--redis-url and --storage-url redis:// select storage-redis', async () => {
  const redis = await redisServer();
  const viaRedisUrl = await exposrd({ config: memoryConfig, args: ['--redis-url', redis.url] });
  const a = await newAccount(viaRedisUrl.port);
  const stored = JSON.parse(await redis.command('GET', `account:${a.id}`));
  assert.equal(stored.id, a.id);
  assert.equal((await viaRedisUrl.stop()).code, 0);

  // Storage only (a single node): the cluster bus is not what this checks.
  const viaStorageUrl = await exposrd({
    config: memoryConfig,
    args: ['--storage-url', redis.url, '--cluster', 'single-node'],
  });
  assertJson(await api(viaStorageUrl.port, 'GET', `/v1/account/${a.id}/token`), 201, { token: a.token });
  const b = await newAccount(viaStorageUrl.port);
  assert.equal(await redis.command('EXISTS', `account:${b.id}`), 1);
  assert.equal((await viaStorageUrl.stop()).code, 0);
});
