// Three exposrd nodes sharing one Redis (docs/storage.md §8, docs/compatibility.md §12.68–74): storage and cluster bus
// on a redis-server the test starts, nodes on 127.0.0.1, .2 and .3 with the same ports,
// traffic re-routed to the node that holds the tunnel, the cluster-wide connection view,
// max-connections across nodes, disconnect across nodes, forged messages, and a node that
// dies.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { WebSocketServer } from 'ws';

import { TunnelClient, apiCall, waitEvent } from './lib/client.mjs';
import { startExposrd, waitFor } from './lib/exposrd.mjs';
import { floodSocket, rssWatch } from './lib/flood.mjs';
import { startRedis } from './lib/redis.mjs';
import { onceWithin } from './lib/deadline.mjs';

const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
const DOMAIN = 'cluster.test';
const ADMIN_KEY = 'cluster-admin-key';

// ---- processes ----------------------------------------------------------------------------

/** A port that is free on every address in `hosts`. */
async function commonFreePort(hosts) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = net.createServer();
    first.listen(0, hosts[0]);
    await onceWithin(first, 'listening');
    const { port } = first.address();
    const others = [];
    let ok = true;
    for (const h of hosts.slice(1)) {
      const s = net.createServer();
      const bound = await new Promise((resolve) => {
        s.once('error', () => resolve(false));
        s.listen(port, h, () => resolve(true));
      });
      if (bound) others.push(s); else ok = false;
    }
    for (const s of [first, ...others]) await new Promise((r) => s.close(r));
    if (ok) return port;
  }
  throw new Error('no port free on every address');
}

function nodeConfig(i, port, adminPort, redisUrl) {
  return {
    log: { level: 'info' },
    http: { bind: HOSTS[i] },
    'shutdown-timeout': 10,
    modules: {
      'storage-redis': { url: redisUrl },
      'cluster-redis': { url: redisUrl },
      'api-v1': { port, 'allow-registration': true },
      'ingress-http': { port, url: `http://${DOMAIN}:${port}` },
      'transport-ws': { port },
      'admin-api': { port: adminPort, key: ADMIN_KEY },
      admin: { port: adminPort },
    },
  };
}

// ---- the target the tunnel client connects to ------------------------------------------------

async function startTarget() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/headers') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(req.headers));
        return;
      }
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('x-body-sha256', crypto.createHash('sha256').update(body).digest('hex'));
      res.end(body);
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, binary) => ws.send(binary ? data : `echo:${data}`));
    });
  });
  server.listen(0, '127.0.0.1');
  await onceWithin(server, 'listening');
  return {
    port: server.address().port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

// ---- requests -------------------------------------------------------------------------------

/** One request to `host`:`port` for tunnel `id`; resolves with { status, headers, body (Buffer) }. */
function ingress(host, port, id, { method = 'GET', path = '/', body, headers = {}, timeout = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host, port, method, path, agent: false, timeout,
      headers: { host: `${id}.${DOMAIN}:${port}`, ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} via ${host} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

function admin(host, port, path) {
  return apiCall(port, 'GET', path, { host, headers: { authorization: `Bearer ${Buffer.from(ADMIN_KEY).toString('base64')}` } });
}

async function tunnelState(host, port, client, id = client.id) {
  const r = await apiCall(port, 'GET', `/v1/tunnel/${id}`, { token: client.token, host });
  assert.equal(r.status, 200, r.body);
  return r.json.connection;
}

/** A client that stops at the first close, instead of reconnecting. */
// ---- the cluster ------------------------------------------------------------------------------

describe('three nodes on one Redis', { timeout: 150000 }, () => {
  let redis;
  let target;
  let port;
  let adminPort;
  const nodes = [];
  const clients = [];
  const nodeIds = [];
  let client1; // the tunnel `t1` on node 1

  before(async () => {
    const t0 = Date.now();
    redis = await startRedis();
    target = await startTarget();
    port = await commonFreePort(HOSTS);
    adminPort = await commonFreePort(HOSTS);
    for (let i = 0; i < 3; i++) {
      nodes.push(await startExposrd({ config: nodeConfig(i, port, adminPort, redis.url), port, host: HOSTS[i] }));
    }
    // Each node learns the others from their start-up heartbeats (every 2 s).
    await waitFor(async () => {
      for (let i = 0; i < 3; i++) {
        const r = await admin(HOSTS[i], adminPort, '/v1/admin/cluster');
        if (r.status !== 200 || r.json.nodes.length !== 3) return false;
      }
      return true;
    }, { timeout: 15000, interval: 200, what: 'every node to know the other two' });
    for (let i = 0; i < 3; i++) {
      nodeIds.push((await admin(HOSTS[i], adminPort, '/v1/admin/cluster')).json.nodes[0].node_id);
    }
    console.log(`# cluster up in ${Date.now() - t0} ms (redis ${redis.port}, http ${port}, admin ${adminPort})`);
  });

  after(async () => {
    for (const c of clients) await c.stop().catch(() => {});
    for (const n of nodes) {
      if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGKILL');
    }
    await Promise.all(nodes.map((n) => n.exited));
    // stop() removes a node's config directory; a killed node leaves it.
    for (const n of nodes) fs.rmSync(path.dirname(n.configFile), { recursive: true, force: true });
    if (target) await target.close();
    if (redis) await redis.remove();
  });

  test('a node is not ready during its 20 s start-up wait (§8.5)', async () => {
    for (const host of HOSTS) {
      assert.equal((await apiCall(adminPort, 'GET', '/health', { host })).status, 404);
      assert.equal((await apiCall(adminPort, 'GET', '/ping', { host })).status, 404);
    }
  });

  test('a tunnel connected to node 1 is connected on every node (§12.68, §8.2)', async () => {
    client1 = await TunnelClient.create({ port, host: HOSTS[0], target: `http://127.0.0.1:${target.port}/` });
    clients.push(client1);
    await client1.connect();
    for (const host of HOSTS) {
      await waitFor(async () => {
        const st = await tunnelState(host, port, client1);
        return st.connected && st.connections === 2;
      }, { timeout: 5000, what: `${host} to see two connections` });
    }
    const adminView = await admin(HOSTS[2], adminPort, `/v1/admin/tunnel/${client1.id}`);
    assert.equal(adminView.status, 200, adminView.body);
    assert.equal(adminView.json.connection.connected, true);
  });

  test('requests through nodes 2 and 3 are re-routed to node 1 (§8.6, §12.73)', async () => {
    for (const host of HOSTS.slice(1)) {
      const r = await ingress(host, port, client1.id, { method: 'POST', path: '/echo', body: `hello via ${host}` });
      assert.equal(r.status, 200, r.body.toString());
      assert.equal(r.body.toString(), `hello via ${host}`);
    }
    // Node 2 only sets X-Forwarded-For, X-Real-IP and exposr-via; node 1 adds the rest.
    const r = await ingress(HOSTS[1], port, client1.id, {
      path: '/headers', headers: { 'x-forwarded-for': '198.51.100.7' },
    });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body.toString());
    assert.equal(seen['x-forwarded-for'], '198.51.100.7');
    assert.equal(seen['x-real-ip'], '198.51.100.7');
    assert.equal(seen['exposr-via'], `${nodeIds[0]},${nodeIds[1]}`);
    assert.equal(seen['x-forwarded-host'], `${client1.id}.${DOMAIN}:${port}`);
    assert.match(seen.forwarded, /^by=_exposr;for=198\.51\.100\.7;host=/);
  });

  test('a 10 MiB body goes through node 3 and back intact', async () => {
    const body = crypto.randomBytes(10 * 1024 * 1024);
    const sha = crypto.createHash('sha256').update(body).digest('hex');
    const t0 = Date.now();
    const r = await ingress(HOSTS[2], port, client1.id, { method: 'POST', path: '/blob', body, timeout: 60000 });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-body-sha256'], sha, 'the target got another body');
    assert.equal(r.body.length, body.length);
    assert.equal(crypto.createHash('sha256').update(r.body).digest('hex'), sha, 'the response changed');
    console.log(`# 10 MiB up and down through two nodes in ${Date.now() - t0} ms`);
  });

  // Re-routed streams hold back like local channels: node 1 stops reading the stream from
  // node 2 while node 2's public output is full, and node 2 stops reading the client.
  test('a client pipelining through node 2 that never reads keeps both nodes bounded', async () => {
    // An ASan build's RSS counts its quarantine (256 MB here): only the normal build's
    // number is checked, the rest holds for both.
    const watches = nodes.slice(0, 2).map((n, i) => rssWatch(n.proc.pid, { name: `node ${i + 1}` }));
    const body = Buffer.alloc(64 * 1024, 'p');
    const head = `POST /echo HTTP/1.1\r\nHost: ${client1.id}.${DOMAIN}:${port}\r\nContent-Length: ${body.length}\r\n\r\n`;
    const sock = net.connect(port, HOSTS[1]);
    await once(sock, 'connect');
    sock.pause();
    const deadline = Date.now() + 10000;
    const flood = floodSocket(sock, Buffer.concat([Buffer.from(head), body]), deadline);
    while (Date.now() < deadline) {
      const r = await ingress(HOSTS[2], port, client1.id, { method: 'POST', path: '/echo', body: 'still here', timeout: 5000 });
      assert.equal(r.status, 200, r.body.toString());
      assert.equal(r.body.toString(), 'still here');
      for (const w of watches) w.check();
      await sleep(1000);
    }
    await flood;
    sock.destroy();
    for (const w of watches) console.log(`# RSS while pipelining (elapsed:kB${w.asan ? ', ASan' : ''}): ${w.curve.join(' ')}`);
  });

  test('a websocket upgrade through node 2 reaches the target', async () => {
    const ws = new WebSocket(`ws://${HOSTS[1]}:${port}/socket`, {
      headers: { host: `${client1.id}.${DOMAIN}:${port}` },
      handshakeTimeout: 5000,
    });
    await onceWithin(ws, 'open');
    ws.send('ping over two nodes');
    const [data] = await onceWithin(ws, 'message');
    assert.equal(data.toString(), 'echo:ping over two nodes');
    ws.close();
    await onceWithin(ws, 'close');
  });

  test('GET /v1/admin/cluster lists the three nodes on every node', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await admin(HOSTS[i], adminPort, '/v1/admin/cluster');
      assert.equal(r.status, 200);
      const byId = Object.fromEntries(r.json.nodes.map((n) => [n.node_id, n]));
      assert.deepEqual(Object.keys(byId).sort(), [...nodeIds].sort());
      for (let k = 0; k < 3; k++) {
        const n = byId[nodeIds[k]];
        assert.equal(n.ip, HOSTS[k]);
        assert.equal(n.is_stale, false);
        assert.ok(n.alive_age >= 0 && n.alive_age < 30000, `alive_age ${n.alive_age}`);
        assert.match(n.host, /^\d+@/);
      }
      assert.equal(r.json.nodes[0].node_id, nodeIds[i], 'this node comes first');
    }
  });

  test('a message with a bad signature is dropped and logged (§12.70)', async () => {
    const forged = JSON.stringify({
      event: 'tunnel:disconnect',
      message: { tunnel_id: client1.id },
      node: { id: 'f'.repeat(40), host: '1@forger', ip: '127.0.0.9' },
      ts: Date.now(),
      seq: 0,
      s: '0'.repeat(64),
    });
    const receivers = await redis.command('PUBLISH', 'exposr', forged);
    assert.equal(receivers, 3, 'three subscribers');
    for (const n of nodes) {
      await waitFor(() => /invalid message signature/.test(n.stderr()), { timeout: 5000, what: 'the drop to be logged' });
    }
    // Nothing happened: the tunnel is still connected and the forger is unknown.
    await sleep(200);
    assert.equal(client1.openCount, 2);
    const r = await admin(HOSTS[1], adminPort, '/v1/admin/cluster');
    assert.equal(r.json.nodes.length, 3);
  });

  let pair; // one connection of tunnel `t2` on node 2, one on node 3
  test('max-connections counts connections on every node (§4.4)', async () => {
    const a = await TunnelClient.create({ port, host: HOSTS[1], connections: 1, target: `http://127.0.0.1:${target.port}/` });
    clients.push(a);
    await a.connect();
    const b = await TunnelClient.create({ port, host: HOSTS[2], connections: 1, tunnelId: a.id, account: a.account, target: `http://127.0.0.1:${target.port}/` });
    clients.push(b);
    await b.connect();
    await waitFor(async () => (await tunnelState(HOSTS[0], port, a)).connections === 2,
      { timeout: 5000, what: 'node 1 to see both connections' });
    const c = await TunnelClient.create({ port, host: HOSTS[0], connections: 1, tunnelId: a.id, account: a.account, target: `http://127.0.0.1:${target.port}/` });
    clients.push(c);
    const closed = waitEvent(c, 'close', () => true, 5000);
    // connect() waits for a slot that stays open: this one does not.
    const connecting = c.connect({ timeout: 1000 }).catch(() => {});
    const [, code] = await closed;
    assert.equal(code, 1008, 'the third connection is refused');
    await c.stop();
    await connecting;
    assert.equal((await tunnelState(HOSTS[0], port, a)).connections, 2);
    pair = [a, b];
  });

  test('POST …/disconnect on node 2 closes the connection node 3 holds (§12.74)', async () => {
    const [a, b] = pair;
    const closedB = waitEvent(b, 'close', () => true, 5000);
    const t0 = Date.now();
    const r = await apiCall(port, 'POST', `/v1/tunnel/${a.id}/disconnect`, { token: a.token, host: HOSTS[1], body: {} });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json, { result: true });
    const [, code] = await closedB;
    assert.equal(code, 1008);
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    // 1008: both clients stop, as the exposr client does, and the tunnel stays down.
    await a.ended();
    await b.ended();
    for (const host of HOSTS) {
      await waitFor(async () => !(await tunnelState(host, port, a)).connected,
        { timeout: 3000, what: `${host} to see the tunnel disconnected` });
      const r = await ingress(host, port, a.id, { path: '/' });
      assert.equal(r.status, 503, `${host}: ${r.body}`);
      assert.deepEqual(JSON.parse(r.body.toString()), { error: 'TUNNEL_NOT_CONNECTED' });
    }
  });

  test('after node 1 dies, the others answer 503, then serve the client on node 3 (§12.72)', async () => {
    const t0 = Date.now();
    nodes[0].proc.kill('SIGKILL');
    await nodes[0].exited;
    await client1.stop();
    for (const host of HOSTS.slice(1)) {
      await waitFor(async () => {
        const r = await ingress(host, port, client1.id, { path: '/' });
        return r.status === 503 && JSON.parse(r.body.toString()).error === 'TUNNEL_NOT_CONNECTED';
      }, { timeout: 30000, interval: 500, what: `${host} to answer 503` });
    }
    console.log(`# node 1 killed: 503 on nodes 2 and 3 after ${Date.now() - t0} ms`);

    const again = await TunnelClient.create({ port, host: HOSTS[2], tunnelId: client1.id, account: client1.account, target: `http://127.0.0.1:${target.port}/` });
    clients.push(again);
    await again.connect();
    await waitFor(async () => (await tunnelState(HOSTS[1], port, again)).connections === 2,
      { timeout: 5000, what: 'node 2 to learn the new connections' });
    for (const host of HOSTS.slice(1)) {
      const r = await ingress(host, port, client1.id, { method: 'POST', path: '/echo', body: `back via ${host}` });
      assert.equal(r.status, 200, r.body.toString());
      assert.equal(r.body.toString(), `back via ${host}`);
    }
  });

  test('the nodes are ready once the start-up wait is over (§8.5)', async () => {
    for (const host of HOSTS.slice(1)) {
      await waitFor(async () => (await apiCall(adminPort, 'GET', '/health', { host })).status === 200,
        { timeout: 25000, interval: 250, what: `${host} to report ready` });
    }
  });

  test('the surviving nodes stop cleanly (exit 0)', async () => {
    for (const c of clients) await c.stop();
    const t0 = Date.now();
    const results = await Promise.all(nodes.slice(1).map((n) => n.stop()));
    for (const r of results) assert.equal(r.code, 0, `exit ${r.code} ${r.signal}:\n${r.stderr.slice(-3000)}`);
    console.log(`# nodes 2 and 3 stopped in ${Date.now() - t0} ms`);
  });
});
