// Public API v1: which requests the API takes (--api-url, docs/api.md §2.1) and the port
// and module settings.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, assertJson, assertText } from './lib/api.mjs';
import { baseConfig, freePort, rawRequest, runExposrd, startExposrd, writeConfig } from './lib/exposrd.mjs';

describe('--api-url http://api.test:8080', () => {
  let srv;
  before(async () => {
    srv = await startExposrd({ args: ['--api-url', 'http://api.test:8080'] });
  });
  after(async () => {
    const { code, stderr } = await srv.stop();
    assert.equal(code, 0, stderr);
  });

  test('§12.16 Host: other.test:8080 naming no tunnel is not answered by the API', async () => {
    const res = await api(srv.port, 'POST', '/v1/account', { headers: { host: 'other.test:8080' } });
    assert.notEqual(res.status, 201);
    assert.equal(res.status, 404);
    assert.notEqual(res.headers['content-type'], 'text/plain; charset=utf-8', 'not the API\'s own 404');
    const tunnel = await api(srv.port, 'GET', '/v1/tunnel/some-tunnel', { headers: { host: 'other.test:8080' } });
    assert.notEqual(tunnel.status, 401, 'the API would have asked for a token');
  });

  test('§12.16 Host: api.test:8080 is answered by the API', async () => {
    const res = await api(srv.port, 'POST', '/v1/account', { headers: { host: 'api.test:8080' } });
    assert.equal(res.status, 201, res.body);
    const upper = await api(srv.port, 'POST', '/v1/account', { headers: { host: 'API.TEST:8080' } });
    assert.equal(upper.status, 201, 'the host is compared lower-cased');
    const unknown = await api(srv.port, 'GET', '/v1/nothing-here', { headers: { host: 'api.test:8080' } });
    assertText(unknown, 404, 'Not Found');
  });

  test('§12.16 the filter uses the base URL: Forwarded and X-Forwarded-Port count', async () => {
    let res = await api(srv.port, 'POST', '/v1/account', { headers: { host: 'internal:1234', forwarded: 'for=1.2.3.4;host=api.test:8080' } });
    assert.equal(res.status, 201, res.body);
    res = await api(srv.port, 'POST', '/v1/account', { headers: { host: 'api.test', 'x-forwarded-port': '8080' } });
    assert.equal(res.status, 201, res.body);
    res = await api(srv.port, 'POST', '/v1/account', { headers: { host: 'api.test:80' } });
    assert.equal(res.status, 404, 'port 80 is dropped, so the host is api.test, not api.test:8080');
  });
});

describe('--api-url with the default port', () => {
  test('§12.16 http://api.test compares as api.test (port 80 dropped)', async () => {
    const srv = await startExposrd({ args: ['--api-url', 'http://API.test:80/'] });
    try {
      assert.equal((await api(srv.port, 'POST', '/v1/account', { headers: { host: 'api.test' } })).status, 201);
      assert.equal((await api(srv.port, 'POST', '/v1/account', { headers: { host: 'api.test:80' } })).status, 201);
      assert.equal((await api(srv.port, 'POST', '/v1/account', { headers: { host: 'api.test:8080' } })).status, 404);
    } finally {
      const { code, stderr } = await srv.stop();
      assert.equal(code, 0, stderr);
    }
  });
});

describe('settings', () => {
  test('an invalid api-url is refused at start with the key path', async () => {
    const port = await freePort();
    const file = writeConfig(baseConfig(port, { modules: { 'api-v1': { port, url: 'not a url' } } }));
    const { code, stderr } = await runExposrd(['--config', file]);
    assert.notEqual(code, 0);
    assert.match(stderr, /modules\.api-v1\.url: 'not a url' is not an absolute URL/);
  });

  test('an unknown key of the module is refused at start', async () => {
    const port = await freePort();
    const file = writeConfig(baseConfig(port, { modules: { 'api-v1': { port, 'alow-registration': true } } }));
    const { code, stderr } = await runExposrd(['--config', file]);
    assert.notEqual(code, 0);
    assert.match(stderr, /alow-registration/);
  });

  test('a bad dns-server is refused at start', async () => {
    const port = await freePort();
    const file = writeConfig(baseConfig(port, { modules: { 'api-v1': { port, 'dns-server': 'dns.example:53' } } }));
    const { code, stderr } = await runExposrd(['--config', file]);
    assert.notEqual(code, 0);
    assert.match(stderr, /modules\.api-v1\.dns-server: 'dns\.example:53' is not an address/);
  });

  test('--api-port moves the API', async () => {
    const port = await freePort();
    const srv = await startExposrd({
      config: (p) => baseConfig(p, { modules: { 'api-v1': { port: p, 'allow-registration': true } } }),
      args: ['--api-port', String(port)],
      waitPort: port,
    });
    try {
      const res = await api(port, 'POST', '/v1/account');
      assert.equal(res.status, 201);
    } finally {
      const { code, stderr } = await srv.stop();
      assert.equal(code, 0, stderr);
    }
  });

  test('upgrade requests are not the API\'s: the listener answers them', async () => {
    const srv = await startExposrd();
    try {
      const raw = await rawRequest(srv.port, 'GET /v1/account HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n' +
        'Upgrade: websocket\r\n\r\n');
      assert.match(raw, /^HTTP\/1\.1 404 /);
      assert.ok(!raw.includes('text/plain'), raw);
      assertJson(await api(srv.port, 'GET', '/v1/tunnel/abcd'), 401, { error: 'AUTH_NO_TOKEN' });
    } finally {
      const { code, stderr } = await srv.stop();
      assert.equal(code, 0, stderr);
    }
  });
});
