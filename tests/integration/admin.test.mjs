// The admin interface: /ping and /health (docs/api.md §3.1), /metrics.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { once } from 'node:events';
import http from 'node:http';

import { api, assertText } from './lib/api.mjs';
import { TunnelClient } from './lib/client.mjs';
import { baseConfig, freePort, readMetrics, startExposrd, waitFor } from './lib/exposrd.mjs';
import { onceWithin } from './lib/deadline.mjs';

describe('--admin-enable', () => {
  let srv;
  let adminPort;
  before(async () => {
    adminPort = await freePort();
    srv = await startExposrd({
      config: (port) => baseConfig(port, { modules: { 'transport-ws': { port } } }),
      args: ['--admin-enable', '--admin-port', String(adminPort)],
    });
  });
  after(async () => {
    const { code, stderr } = await srv.stop();
    assert.equal(code, 0, stderr);
  });

  test('§12.61 GET /ping → 200 OK once ready', async () => {
    assertText(await api(adminPort, 'GET', '/ping'), 200, 'OK');
  });

  test('§12.61 GET /health → 200 OK while running', async () => {
    assertText(await api(adminPort, 'GET', '/health'), 200, 'OK');
  });

  test('HEAD, a trailing slash and upper case work as in koa-router', async () => {
    const head = await api(adminPort, 'HEAD', '/ping');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assertText(await api(adminPort, 'GET', '/PING/'), 200, 'OK');
  });

  test('GET /metrics: the Prometheus text format, following connected websockets', async () => {
    const r = await api(adminPort, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(r.body, /^# HELP exposrd_transport_ws_connections Websocket transport connections open\n# TYPE exposrd_transport_ws_connections gauge\nexposrd_transport_ws_connections 0\n/m);
    assert.match(r.body, /^# TYPE exposrd_transport_ws_channels gauge\nexposrd_transport_ws_channels 0\n/m);
    const target = http.createServer((req, res) => res.end('x'));
    let client;
    try {
      target.listen(0, '127.0.0.1');
      await onceWithin(target, 'listening');
      client = await TunnelClient.create({ port: srv.port, target: `http://127.0.0.1:${target.address().port}/`,
        ingressHttp: false });
      await client.connect();
      assert.ok(client.openCount > 0);
      assert.equal((await readMetrics(adminPort)).exposrd_transport_ws_connections, client.openCount);
    } finally {
      await client?.stop();
      target.close();
    }
    await waitFor(async () => (await readMetrics(adminPort)).exposrd_transport_ws_connections === 0,
      { what: 'the gauge back at 0' });
    assertText(await api(adminPort, 'POST', '/metrics'), 404, 'Not Found');
  });

  test('anything else → 404 text', async () => {
    assertText(await api(adminPort, 'GET', '/'), 404, 'Not Found');
    assertText(await api(adminPort, 'POST', '/ping'), 404, 'Not Found');
    assertText(await api(adminPort, 'GET', '/ping/more'), 404, 'Not Found');
    assertText(await api(adminPort, 'GET', '/v1/admin/tunnel'), 404, 'Not Found');
  });

  test('the admin interface does not answer on the API port, nor the API on the admin port', async () => {
    const ping = await api(srv.port, 'GET', '/ping');
    assert.equal(ping.status, 404);
    assert.equal(ping.body, '{"error":"NOT_FOUND"}');
    assertText(await api(adminPort, 'POST', '/v1/account'), 404, 'Not Found');
  });
});

describe('admin settings', () => {
  test('admin.port in the YAML file', async () => {
    const adminPort = await freePort();
    const srv = await startExposrd({
      config: (port) => baseConfig(port, { modules: { admin: { port: adminPort } } }),
      waitPort: adminPort,
    });
    try {
      assertText(await api(adminPort, 'GET', '/ping'), 200, 'OK');
      // No module here keeps a metric: an empty exposition.
      const metrics = await api(adminPort, 'GET', '/metrics');
      assert.equal(metrics.status, 200);
      assert.equal(metrics.body, '');
    } finally {
      const { code, stderr } = await srv.stop();
      assert.equal(code, 0, stderr);
    }
  });
});
