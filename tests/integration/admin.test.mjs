// The admin interface: /ping and /health (protocol.md §3.1).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, assertText } from './lib/api.mjs';
import { baseConfig, freePort, startExposrd } from './lib/exposrd.mjs';

describe('--admin-enable', () => {
  let srv;
  let adminPort;
  before(async () => {
    adminPort = await freePort();
    srv = await startExposrd({ args: ['--admin-enable', '--admin-port', String(adminPort)] });
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
    } finally {
      const { code, stderr } = await srv.stop();
      assert.equal(code, 0, stderr);
    }
  });
});
