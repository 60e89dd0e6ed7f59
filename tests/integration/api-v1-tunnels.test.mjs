// Public API v1: the tunnel routes (docs/api.md §2.4–2.7), without transports or ingresses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ISO_RE, TUNNEL_ID_REGEX, admin, api, assertBadInput, assertJson, assertText, b64, newAccount,
  newTunnel,
} from './lib/api.mjs';
import { baseConfig, freePort, startExposrd } from './lib/exposrd.mjs';

const KEY = 'admin-key';

// The object of a tunnel nobody configured, on a server without transports and ingresses.
function plainTunnel(id, created_at, target = {}) {
  return {
    id,
    connection: { connected: false, connections: 0 },
    transport: { max_connections: 2 },
    endpoints: {}, // the pre-0.5 clients' name of transport (docs/legacy-clients.md §14.5 C4)
    ingress: { http: {}, sni: {} },
    target,
    upstream: target, // and of target
    created_at,
  };
}

describe('tunnel routes', () => {
  let srv;
  let adminPort;
  let alice;
  let bob;
  before(async () => {
    adminPort = await freePort();
    srv = await startExposrd({
      config: (port) => baseConfig(port, {
        modules: { 'admin-api': { port: adminPort, key: KEY } },
      }),
    });
    alice = await newAccount(srv.port);
    bob = await newAccount(srv.port);
  });
  after(async () => {
    const { code, stderr } = await srv.stop();
    assert.equal(code, 0, stderr);
  });

  test('§12.1 PUT with an id of 3 characters or with upper case → 400 BAD_INPUT', async () => {
    for (const id of ['abc', 'MyTunnel', 'a-bc', '-abcde', 'abcde-', 'ab_cde', 'a'.repeat(64) + '-b']) {
      const res = await api(srv.port, 'PUT', `/v1/tunnel/${id}`, { token: alice.token, body: {} });
      assertBadInput(res, `"tunnel_id" with value "${id}" fails to match the required pattern: ${TUNNEL_ID_REGEX}`);
    }
  });

  test('§12.1 abcd, 1abc, a-b-c1 and a 65-character a…a-…b id are accepted', async () => {
    const long = 'a'.repeat(32) + '-' + 'b'.repeat(32);
    assert.equal(long.length, 65);
    for (const id of ['abcd', '1abc', 'a-b-c1', long]) {
      const res = await api(srv.port, 'PUT', `/v1/tunnel/${id}`, { token: alice.token, body: {} });
      assert.equal(res.status, 200, `${id}: ${res.body}`);
      assert.equal(res.json.id, id);
    }
  });

  test('§12.5 tunnel routes without Authorization → 401 AUTH_NO_TOKEN', async () => {
    const calls = [
      ['GET', '/v1/tunnel/no-auth-1'],
      ['PUT', '/v1/tunnel/no-auth-1', {}],
      ['PATCH', '/v1/tunnel/no-auth-1', {}],
      ['DELETE', '/v1/tunnel/no-auth-1'],
      ['POST', '/v1/tunnel/no-auth-1/disconnect'],
    ];
    for (const [method, path, body] of calls) {
      assertJson(await api(srv.port, method, path, { body }), 401, { error: 'AUTH_NO_TOKEN' });
    }
  });

  test('§12.5 a token of an unknown account → 401 PERMISSION_DENIED', async () => {
    for (const token of [b64('CDEFHJKMNPRTVWXY'), b64('not an account'), b64('\u0000abc')]) {
      const res = await api(srv.port, 'GET', '/v1/tunnel/unknown-1', { token });
      assertJson(res, 401, { error: 'PERMISSION_DENIED' });
    }
  });

  test('§12.5 the token of a formatted account number is accepted too', async () => {
    const res = await api(srv.port, 'PUT', '/v1/tunnel/formatted-token', { token: b64(alice.hr.toLowerCase()), body: {} });
    assert.equal(res.status, 200, res.body);
  });

  test('§12.6 PUT /v1/tunnel/<new id> with {} → 200 and the tunnel object', async () => {
    const res = await api(srv.port, 'PUT', '/v1/tunnel/new-tunnel-6', { token: alice.token, body: {} });
    assert.equal(res.status, 200);
    assert.match(res.json.created_at, ISO_RE);
    assertJson(res, 200, plainTunnel('new-tunnel-6', res.json.created_at));
  });

  test('§12.6 PUT on an own existing tunnel → 200 and applies the body', async () => {
    const first = await newTunnel(srv.port, alice, 'put-twice');
    const res = await api(srv.port, 'PUT', '/v1/tunnel/put-twice', {
      token: alice.token, body: { target: { url: 'http://example.com/' } },
    });
    assertJson(res, 200, plainTunnel('put-twice', first.created_at, { url: 'http://example.com/' }));
  });

  test('§12.7 PUT without a JSON content type → 400 with field content-type: …', async () => {
    const res = await api(srv.port, 'PUT', '/v1/tunnel/ctype-test', { token: alice.token, body: '{}', contentType: 'text/plain' });
    assertBadInput(res, 'content-type: expected json');
    const none = await api(srv.port, 'PUT', '/v1/tunnel/ctype-test', { token: alice.token, body: '{}', contentType: null });
    assertBadInput(none, 'content-type: expected json');
  });

  test('§12.7 a body with an unknown key → 400', async () => {
    const res = await api(srv.port, 'PUT', '/v1/tunnel/unknown-key', { token: alice.token, body: { foo: 1 } });
    assertBadInput(res, '"foo" is not allowed');
  });

  test('§12.8 PATCH target.url → 200 and echoed; null → target {}', async () => {
    const created = await newTunnel(srv.port, alice, 'target-test');
    let res = await api(srv.port, 'PATCH', '/v1/tunnel/target-test', {
      token: alice.token, body: { target: { url: 'http://example.com/' } },
    });
    assertJson(res, 200, plainTunnel('target-test', created.created_at, { url: 'http://example.com/' }));
    res = await api(srv.port, 'GET', '/v1/tunnel/target-test', { token: alice.token });
    assert.deepEqual(res.json.target, { url: 'http://example.com/' });
    res = await api(srv.port, 'PATCH', '/v1/tunnel/target-test', { token: alice.token, body: { target: { url: null } } });
    assertJson(res, 200, plainTunnel('target-test', created.created_at));
  });

  test('PATCH stores any absolute URI verbatim (tcp, tls, ws …)', async () => {
    await newTunnel(srv.port, alice, 'uri-forms');
    for (const url of ['tcp://127.0.0.1:22', 'tcps://db.internal:5432', 'ws://[::1]:8080/x?y#z', 'https://u:p@h/']) {
      const res = await api(srv.port, 'PATCH', '/v1/tunnel/uri-forms', { token: alice.token, body: { target: { url } } });
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json.target.url, url);
    }
  });

  test('D10 PATCH on a missing tunnel → 404 TUNNEL_NOT_FOUND', async () => {
    const res = await api(srv.port, 'PATCH', '/v1/tunnel/never-created', { token: alice.token, body: {} });
    assertJson(res, 404, { error: 'TUNNEL_NOT_FOUND' });
  });

  test('§12.11 GET/DELETE of another account\'s tunnel → 404; PUT/PATCH → 403', async () => {
    await newTunnel(srv.port, alice, 'alices-tunnel');
    const opts = { token: bob.token };
    assertJson(await api(srv.port, 'GET', '/v1/tunnel/alices-tunnel', opts), 404, { error: 'TUNNEL_NOT_FOUND' });
    assertJson(await api(srv.port, 'DELETE', '/v1/tunnel/alices-tunnel', opts), 404, { error: 'TUNNEL_NOT_FOUND' });
    assertJson(await api(srv.port, 'PUT', '/v1/tunnel/alices-tunnel', { ...opts, body: {} }), 403, { error: 'PERMISSION_DENIED' });
    assertJson(await api(srv.port, 'PATCH', '/v1/tunnel/alices-tunnel', { ...opts, body: { target: { url: 'http://evil/' } } }),
      403, { error: 'PERMISSION_DENIED' });
    const still = await api(srv.port, 'GET', '/v1/tunnel/alices-tunnel', { token: alice.token });
    assert.deepEqual(still.json.target, {}, 'the foreign PATCH changed nothing');
  });

  test('§12.12 DELETE → 204; GET → 404; the id leaves the account\'s tunnels', async () => {
    await newTunnel(srv.port, alice, 'short-lived');
    let acct = await admin(adminPort, 'GET', `/v1/admin/account/${alice.id}`, KEY);
    assert.ok(acct.json.tunnels.includes('short-lived'));
    const del = await api(srv.port, 'DELETE', '/v1/tunnel/short-lived', { token: alice.token });
    assert.equal(del.status, 204);
    assert.equal(del.body, '');
    assert.equal(del.headers['content-type'], undefined);
    assertJson(await api(srv.port, 'GET', '/v1/tunnel/short-lived', { token: alice.token }), 404, { error: 'TUNNEL_NOT_FOUND' });
    acct = await admin(adminPort, 'GET', `/v1/admin/account/${alice.id}`, KEY);
    assert.ok(!acct.json.tunnels.includes('short-lived'));
    assertJson(await api(srv.port, 'DELETE', '/v1/tunnel/short-lived', { token: alice.token }), 404, { error: 'TUNNEL_NOT_FOUND' });
  });

  test('§12.14 created_at is an ISO-8601 string and stays the same across updates', async () => {
    const created = await newTunnel(srv.port, alice, 'iso-dates');
    assert.match(created.created_at, ISO_RE);
    const res = await api(srv.port, 'PATCH', '/v1/tunnel/iso-dates', { token: alice.token, body: {} });
    assert.equal(res.json.created_at, created.created_at);
  });

  test('GET of a missing tunnel → 404 TUNNEL_NOT_FOUND', async () => {
    assertJson(await api(srv.port, 'GET', '/v1/tunnel/does-not-exist', { token: alice.token }), 404, { error: 'TUNNEL_NOT_FOUND' });
  });

  test('disconnect: own tunnel → {"result":true}, foreign → {"result":false}, missing → 404', async () => {
    await newTunnel(srv.port, alice, 'disc-test');
    assertJson(await api(srv.port, 'POST', '/v1/tunnel/disc-test/disconnect', { token: alice.token, body: {} }), 200, { result: true });
    assertJson(await api(srv.port, 'POST', '/v1/tunnel/disc-test/disconnect', { token: bob.token }), 200, { result: false });
    assertJson(await api(srv.port, 'POST', '/v1/tunnel/disc-missing/disconnect', { token: alice.token }), 404, { error: 'TUNNEL_NOT_FOUND' });
    assertBadInput(await api(srv.port, 'POST', '/v1/tunnel/DISC/disconnect', { token: alice.token }),
      `"tunnel_id" with value "DISC" fails to match the required pattern: ${TUNNEL_ID_REGEX}`);
  });

  test('§2.5 an ingress the server does not run → 500 ingress_administratively_disabled', async () => {
    const created = await newTunnel(srv.port, alice, 'no-ingress');
    for (const ingress of [{ http: { enabled: true } }, { sni: { enabled: 'true' } }]) {
      const res = await api(srv.port, 'PATCH', '/v1/tunnel/no-ingress', { token: alice.token, body: { ingress } });
      assertJson(res, 500, { error: 'UNKNOWN_ERROR', detailed: 'ingress_administratively_disabled' });
    }
    // Disabling is fine, and alt-names mean nothing without an HTTP ingress.
    const res = await api(srv.port, 'PATCH', '/v1/tunnel/no-ingress', {
      token: alice.token, body: { ingress: { http: { enabled: false, alt_names: ['a.example.com'] }, sni: { enabled: false } } },
    });
    assertJson(res, 200, plainTunnel('no-ingress', created.created_at));
  });

  test('the stored record carries the recomputed ingress blocks and transport flags', async () => {
    await newTunnel(srv.port, alice, 'stored-flags');
    const res = await api(srv.port, 'PATCH', '/v1/tunnel/stored-flags', {
      token: alice.token, body: { transport: { ws: { enabled: true }, ssh: { enabled: 'FALSE' } } },
    });
    assert.equal(res.status, 200);
    const stored = await admin(adminPort, 'GET', '/v1/admin/tunnel/stored-flags', KEY);
    assert.equal(stored.status, 200);
    assert.deepEqual(stored.json.ingress, {
      http: { enabled: false, urls: [], alt_names: [] },
      sni: { enabled: false, urls: [] },
    });
    assert.equal(stored.json.account_id, alice.id);
  });

  test('a disabled account can still use the API (§2.1)', async () => {
    const carol = await newAccount(srv.port);
    await newTunnel(srv.port, carol, 'carols-tunnel');
    const dis = await admin(adminPort, 'PUT', `/v1/admin/account/${carol.id}/disable`, KEY, { body: { disable: true } });
    assert.equal(dis.status, 200);
    const res = await api(srv.port, 'GET', '/v1/tunnel/carols-tunnel', { token: carol.token });
    assert.equal(res.status, 200);
  });
});
