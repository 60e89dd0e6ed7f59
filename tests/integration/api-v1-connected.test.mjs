// Public and admin API with a tunnel connected over the websocket transport: connection
// state, disconnect, and what disabling an account does (docs/api.md §2.6, §2.7, §3.2).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';

import WebSocket from 'ws';

import { ISO_RE, admin, api, assertJson, newAccount, newTunnel, waitForState } from './lib/api.mjs';
import { baseConfig, freePort, startExposrd } from './lib/exposrd.mjs';
import { onceWithin } from './lib/deadline.mjs';

const KEY = 'admin-key';

// Opens the tunnel's websocket endpoint; resolves once it is open, with its close event.
async function connect(port, account, id) {
  const res = await api(port, 'GET', `/v1/tunnel/${id}`, { token: account.token });
  const ws = new WebSocket(res.json.transport.ws.url);
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), at: Date.now() })));
  ws.on('error', () => {});
  await onceWithin(ws, 'open');
  return { ws, closed };
}

describe('a connected tunnel', () => {
  let srv;
  let adminPort;
  let alice;
  before(async () => {
    adminPort = await freePort();
    srv = await startExposrd({
      config: (port) => baseConfig(port, {
        modules: { 'transport-ws': { port }, 'admin-api': { port: adminPort, key: KEY } },
      }),
    });
    alice = await newAccount(srv.port);
  });
  after(async () => {
    const { code, stderr } = await srv.stop();
    assert.equal(code, 0, stderr);
  });

  test('§12.14 connection.connected_at and alive_at are integers (epoch ms); created_at is ISO', async () => {
    await newTunnel(srv.port, alice, 'conn-state');
    const before = Date.now();
    const { ws, closed } = await connect(srv.port, alice, 'conn-state');
    const t = await waitForState(srv.port, alice, 'conn-state', (c) => c.connected);
    assert.equal(t.connection.connections, 1);
    assert.ok(Number.isInteger(t.connection.connected_at), JSON.stringify(t.connection));
    assert.ok(t.connection.connected_at >= before - 1000 && t.connection.connected_at <= Date.now() + 1000);
    assert.ok(Number.isInteger(t.connection.alive_at));
    assert.deepEqual(Object.keys(t.connection), ['connected', 'connections', 'connected_at', 'alive_at']);
    assert.match(t.created_at, ISO_RE);
    const a = (await admin(adminPort, 'GET', '/v1/admin/tunnel/conn-state', KEY)).json;
    assert.equal(a.connection.connected, true);
    assert.match(a.connection.connected_at, ISO_RE);
    assert.match(a.connection.alive_at, ISO_RE);
    // §3.2: every known connection, with its node and the client's address.
    const node = (await admin(adminPort, 'GET', '/v1/admin/cluster', KEY)).json.nodes[0].node_id;
    assert.equal(a.connections.length, 1, JSON.stringify(a.connections));
    const c = a.connections[0];
    assert.deepEqual(Object.keys(c), ['connection_id', 'node_id', 'peer', 'connected', 'connected_at', 'alive_at']);
    assert.match(c.connection_id, new RegExp(`^${node}:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`));
    assert.equal(c.node_id, node);
    assert.match(c.peer, /127\.0\.0\.1$/);
    assert.equal(c.connected, true);
    assert.match(c.connected_at, ISO_RE);
    assert.match(c.alive_at, ISO_RE);
    ws.close();
    await closed;
    const gone = await waitForState(srv.port, alice, 'conn-state', (c) => !c.connected);
    assert.equal(gone.connection.connections, 0);
    // A disconnected connection stays listed until it is forgotten (60 s).
    const after = (await admin(adminPort, 'GET', '/v1/admin/tunnel/conn-state', KEY)).json;
    assert.equal(after.connections.length, 1);
    assert.equal(after.connections[0].connected, false);
    assert.match(after.connections[0].disconnected_at, ISO_RE);
    assert.ok(Number.isInteger(gone.connection.disconnected_at));
  });

  test('§12.13 POST …/disconnect → {"result":true}; the websocket closes with 1008 within 1 s', async () => {
    await newTunnel(srv.port, alice, 'conn-kick');
    const { closed } = await connect(srv.port, alice, 'conn-kick');
    await waitForState(srv.port, alice, 'conn-kick', (c) => c.connected);
    const started = Date.now();
    const res = await api(srv.port, 'POST', '/v1/tunnel/conn-kick/disconnect', { token: alice.token, body: {} });
    assertJson(res, 200, { result: true });
    const { code, reason, at } = await closed;
    assert.equal(code, 1008);
    assert.equal(reason, 'Tunnel disconnected');
    assert.ok(at - started < 1000, `closed after ${at - started} ms`);
    const t = await api(srv.port, 'GET', '/v1/tunnel/conn-kick', { token: alice.token });
    assert.equal(t.json.connection.connected, false);
  });

  test('§12.13 the admin disconnect closes it too; another account\'s disconnect does not', async () => {
    const bob = await newAccount(srv.port);
    await newTunnel(srv.port, alice, 'conn-admin');
    const { closed } = await connect(srv.port, alice, 'conn-admin');
    await waitForState(srv.port, alice, 'conn-admin', (c) => c.connected);
    assertJson(await api(srv.port, 'POST', '/v1/tunnel/conn-admin/disconnect', { token: bob.token }), 200, { result: false });
    assert.equal((await api(srv.port, 'GET', '/v1/tunnel/conn-admin', { token: alice.token })).json.connection.connected, true);
    assertJson(await admin(adminPort, 'POST', '/v1/admin/tunnel/conn-admin/disconnect', KEY), 200, { result: true });
    assert.equal((await closed).code, 1008);
  });

  test('§12.65 disabling the account disconnects its tunnels and refuses new connections', async () => {
    const carol = await newAccount(srv.port);
    await newTunnel(srv.port, carol, 'conn-disabled');
    const { closed } = await connect(srv.port, carol, 'conn-disabled');
    await waitForState(srv.port, carol, 'conn-disabled', (c) => c.connected);
    const res = await admin(adminPort, 'PUT', `/v1/admin/account/${carol.hr}/disable`, KEY, { body: { disable: true, reason: 'spam' } });
    assert.equal(res.status, 200);
    assert.equal(res.json.status.disabled_reason, 'spam');
    assert.equal((await closed).code, 1008);
    // The API still answers the owner, but the fresh token no longer connects.
    const t = await api(srv.port, 'GET', '/v1/tunnel/conn-disabled', { token: carol.token });
    assert.equal(t.status, 200);
    const ws = new WebSocket(t.json.transport.ws.url);
    const refused = await new Promise((resolve) => {
      ws.on('unexpected-response', (req, r) => {
        let body = '';
        r.on('data', (d) => { body += d; });
        r.on('end', () => resolve({ status: r.statusCode, body }));
      });
      ws.on('open', () => resolve({ status: 101 }));
      ws.on('error', () => {});
    });
    assert.notEqual(refused.status, 101);
    assert.ok('error' in JSON.parse(refused.body), refused.body);
  });

  test('deleting a connected tunnel closes its connection (1008)', async () => {
    await newTunnel(srv.port, alice, 'conn-delete');
    const { closed } = await connect(srv.port, alice, 'conn-delete');
    await waitForState(srv.port, alice, 'conn-delete', (c) => c.connected);
    assert.equal((await api(srv.port, 'DELETE', '/v1/tunnel/conn-delete', { token: alice.token })).status, 204);
    assert.equal((await closed).code, 1008);
  });
});
