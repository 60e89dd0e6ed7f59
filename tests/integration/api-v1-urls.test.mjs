// Public API v1 with the websocket transport and the HTTP ingress loaded: the URLs a
// tunnel object hands out, built from the request's base URL (docs/api.md §2.1, §2.7).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ISO_RE, admin, api, assertJson, b64, newAccount, newTunnel } from './lib/api.mjs';
import { baseConfig, freePort, startExposrd } from './lib/exposrd.mjs';

const KEY = 'admin-key';
const TOKEN_RE = /^[A-Za-z0-9_-]{86}$/;

function tokenOf(wsUrl) {
  return new URL(wsUrl).searchParams.get('t');
}

describe('tunnel URLs', () => {
  let srv;
  let adminPort;
  before(async () => {
    adminPort = await freePort();
    srv = await startExposrd({
      config: (port) => baseConfig(port, {
        modules: {
          'transport-ws': { port },
          'ingress-http': { port, url: 'http://localhost:8080' },
          'admin-api': { port: adminPort, key: KEY },
        },
      }),
    });
  });
  after(async () => {
    const { code, stderr } = await srv.stop();
    assert.equal(code, 0, stderr);
  });

  test('§12.6 PUT /v1/tunnel/<new id> {} → the full tunnel object with ws://<Host>/… and a token', async () => {
    const alice = await newAccount(srv.port);
    const res = await api(srv.port, 'PUT', '/v1/tunnel/fresh-tunnel', { token: alice.token, body: {} });
    assert.equal(res.status, 200);
    const token = tokenOf(res.json.transport.ws.url);
    assert.match(token, TOKEN_RE);
    assert.match(res.json.created_at, ISO_RE);
    assertJson(res, 200, {
      id: 'fresh-tunnel',
      connection: { connected: false, connections: 0 },
      transport: {
        max_connections: 2,
        ws: { enabled: false, url: `ws://127.0.0.1:${srv.port}/v1/tunnel/fresh-tunnel/ws-endpoint?t=${token}` },
      },
      // The pre-0.5 clients' names (docs/legacy-clients.md §14.5 C4, C5): the same token on their path.
      endpoints: { ws: { enabled: false, url: `ws://127.0.0.1:${srv.port}/v1/endpoint/ws/fresh-tunnel?token=${token}` } },
      ingress: { http: {}, sni: {} },
      target: {},
      upstream: {},
      created_at: res.json.created_at,
    });
    const stored = await admin(adminPort, 'GET', '/v1/admin/tunnel/fresh-tunnel', KEY);
    assert.equal(stored.json.transport.token, token, 'the URL carries the current connection token');
  });

  test('§12.10 X-Forwarded-Proto: https → a wss:// transport URL', async () => {
    const alice = await newAccount(srv.port);
    await newTunnel(srv.port, alice, 'secure-one');
    const res = await api(srv.port, 'GET', '/v1/tunnel/secure-one', { token: alice.token, headers: { 'x-forwarded-proto': 'https' } });
    assert.match(res.json.transport.ws.url, new RegExp(`^wss://127\\.0\\.0\\.1:${srv.port}/v1/tunnel/secure-one/ws-endpoint\\?t=`));
  });

  test('the base URL follows Forwarded, X-Forwarded-*, X-Scheme and Host, default ports dropped', async () => {
    const alice = await newAccount(srv.port);
    await newTunnel(srv.port, alice, 'base-urls');
    const cases = [
      [{ host: 'Tunnels.Example.com' }, 'ws://tunnels.example.com/'],
      [{ host: 'example.com:80' }, 'ws://example.com/'],
      [{ host: 'example.com:443', 'x-forwarded-proto': 'https' }, 'wss://example.com/'],
      [{ host: 'example.com', 'x-scheme': 'https' }, 'wss://example.com/'],
      [{ host: 'internal:8080', forwarded: 'for=10.0.0.1;proto=https;host=public.example:8443' }, 'wss://public.example:8443/'],
      [{ host: 'internal:8080', forwarded: 'proto=https;host=public.example', 'x-forwarded-port': '9443' }, 'wss://public.example:9443/'],
      [{ host: 'internal:8080', forwarded: 'host=public.example' }, 'ws://public.example:8080/'],
      [{ host: 'example.com', 'x-forwarded-port': '8000' }, 'ws://example.com:8000/'],
    ];
    for (const [headers, prefix] of cases) {
      const res = await api(srv.port, 'GET', '/v1/tunnel/base-urls', { token: alice.token, headers });
      assert.equal(res.status, 200, JSON.stringify(headers));
      assert.ok(res.json.transport.ws.url.startsWith(`${prefix}v1/tunnel/base-urls/ws-endpoint?t=`),
        `${JSON.stringify(headers)} → ${res.json.transport.ws.url}`);
    }
  });

  test('§12.9 PATCH ingress.http.enabled → url http://<id>.localhost:8080/, urls [url], alt_names []', async () => {
    const alice = await newAccount(srv.port);
    await newTunnel(srv.port, alice, 'web-app');
    const res = await api(srv.port, 'PATCH', '/v1/tunnel/web-app', { token: alice.token, body: { ingress: { http: { enabled: true } } } });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json.ingress, {
      http: { enabled: true, url: 'http://web-app.localhost:8080/', urls: ['http://web-app.localhost:8080/'], alt_names: [] },
      sni: {},
    });
    const get = await api(srv.port, 'GET', '/v1/tunnel/web-app', { token: alice.token });
    assert.deepEqual(get.json.ingress, res.json.ingress);
    const off = await api(srv.port, 'PATCH', '/v1/tunnel/web-app', { token: alice.token, body: { ingress: { http: { enabled: false } } } });
    assert.deepEqual(off.json.ingress, { http: {}, sni: {} }, 'a disabled block is {}');
    const stored = await admin(adminPort, 'GET', '/v1/admin/tunnel/web-app', KEY);
    assert.deepEqual(stored.json.ingress.http, { enabled: false, urls: [], alt_names: [] });
  });

  test('SNI is not run by this server: asking for it → 500', async () => {
    const alice = await newAccount(srv.port);
    await newTunnel(srv.port, alice, 'no-sni-here');
    const res = await api(srv.port, 'PATCH', '/v1/tunnel/no-sni-here', { token: alice.token, body: { ingress: { sni: { enabled: true } } } });
    assertJson(res, 500, { error: 'UNKNOWN_ERROR', detailed: 'ingress_administratively_disabled' });
  });

  test('admin tunnel object: ws block with the flag and URL, token beside it', async () => {
    const alice = await newAccount(srv.port);
    await newTunnel(srv.port, alice, 'admin-ws', { transport: { ws: { enabled: true } } });
    const res = await admin(adminPort, 'GET', '/v1/admin/tunnel/admin-ws', KEY, { headers: { 'x-forwarded-proto': 'https' } });
    const { transport } = res.json;
    assert.deepEqual(Object.keys(transport), ['token', 'max_connections', 'ws']);
    assert.equal(transport.ws.enabled, true);
    assert.equal(transport.ws.url, `wss://127.0.0.1:${adminPort}/v1/tunnel/admin-ws/ws-endpoint?t=${transport.token}`);
  });

  for (const spelling of ['canonical', 'dashed, spaced and lower case']) {
    test(`the user's path end to end, account typed ${spelling}`, async () => {
      // 1. register, 2. token, 3. create, 4. configure, 5. read back, 6. delete
      const reg = await api(srv.port, 'POST', '/v1/account', { body: {} });
      assert.equal(reg.status, 201);
      const { account_id: id, account_id_hr: hr } = reg.json;
      const typed = spelling === 'canonical' ? id : `${hr.slice(0, 9).toLowerCase()} ${hr.slice(10)}`;
      const tok = await api(srv.port, 'GET', `/v1/account/${encodeURIComponent(typed)}/token`);
      assertJson(tok, 201, { token: b64(id) });
      const token = tok.json.token;
      const tunnelId = spelling === 'canonical' ? 'user-path-a' : 'user-path-b';

      assertJson(await api(srv.port, 'GET', `/v1/tunnel/${tunnelId}`, { token }), 404, { error: 'TUNNEL_NOT_FOUND' });
      const put = await api(srv.port, 'PUT', `/v1/tunnel/${tunnelId}`, { token, body: {} });
      assert.equal(put.status, 200);
      for (const body of [
        { target: { url: 'http://127.0.0.1:3000/' } },
        { ingress: { http: { enabled: true } } },
        { transport: { ws: { enabled: true } } },
      ]) {
        const res = await api(srv.port, 'PATCH', `/v1/tunnel/${tunnelId}`, { token, body });
        assert.equal(res.status, 200, res.body);
      }

      const plain = await api(srv.port, 'GET', `/v1/tunnel/${tunnelId}`, { token });
      const t = tokenOf(plain.json.transport.ws.url);
      assertJson(plain, 200, {
        id: tunnelId,
        connection: { connected: false, connections: 0 },
        transport: { max_connections: 2, ws: { enabled: true, url: `ws://127.0.0.1:${srv.port}/v1/tunnel/${tunnelId}/ws-endpoint?t=${t}` } },
        endpoints: { ws: { enabled: true, url: `ws://127.0.0.1:${srv.port}/v1/endpoint/ws/${tunnelId}?token=${t}` } },
        ingress: {
          http: { enabled: true, url: `http://${tunnelId}.localhost:8080/`, urls: [`http://${tunnelId}.localhost:8080/`], alt_names: [] },
          sni: {},
        },
        target: { url: 'http://127.0.0.1:3000/' },
        upstream: { url: 'http://127.0.0.1:3000/' },
        created_at: put.json.created_at,
      });

      const forwarded = await api(srv.port, 'GET', `/v1/tunnel/${tunnelId}`, {
        // Without a port in the Forwarded host, Host's port would be used (exposrd's rule).
        token, headers: { forwarded: 'for=203.0.113.9;proto=https;host=tunnels.example.com:443' },
      });
      assert.equal(forwarded.json.transport.ws.url, `wss://tunnels.example.com/v1/tunnel/${tunnelId}/ws-endpoint?t=${t}`);
      assert.deepEqual(forwarded.json.ingress, plain.json.ingress, 'ingress URLs come from the ingress, not the request');

      const del = await api(srv.port, 'DELETE', `/v1/tunnel/${tunnelId}`, { token });
      assert.equal(del.status, 204);
      assertJson(await api(srv.port, 'GET', `/v1/tunnel/${tunnelId}`, { token }), 404, { error: 'TUNNEL_NOT_FOUND' });
    });
  }
});
