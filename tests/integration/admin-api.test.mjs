// The admin API (docs/api.md §3.2, §3.3): key rules, accounts, tunnels, lists, cluster.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ACCOUNT_RE, ISO_RE, TUNNEL_ID_REGEX, admin, api, assertBadInput, assertJson, assertText, b64,
  newAccount, newTunnel,
} from './lib/api.mjs';
import { baseConfig, freePort, startExposrd } from './lib/exposrd.mjs';

const KEY = 'k';

/** 403 as from 0.12, with a JSON body that says how the key is sent. */
function assertKeyRefused(res) {
  assertJson(res, 403, {
    error: 'PERMISSION_DENIED',
    details: 'expected the header Authorization: Bearer <base64 of the admin API key>',
  });
}

async function stopOk(srv) {
  const { code, stderr } = await srv.stop();
  assert.equal(code, 0, stderr);
}

describe('admin API with a key', () => {
  let srv;
  let port;
  before(async () => {
    port = await freePort();
    srv = await startExposrd({
      args: ['--admin-api-enable', '--admin-api-key', KEY, '--admin-api-port', String(port)],
    });
  });
  after(() => stopOk(srv));

  test('§12.62 Authorization: Bearer base64(key) succeeds', async () => {
    const res = await admin(port, 'GET', '/v1/admin/tunnel', KEY);
    assert.equal(res.status, 200, res.body);
    const other = await api(port, 'GET', '/v1/admin/tunnel', { headers: { authorization: `Anything ${b64(KEY)}` } });
    assert.equal(other.status, 200, 'the first word is not checked');
  });

  test('§12.62 a wrong or missing key → 403 PERMISSION_DENIED with a hint, before any validation', async () => {
    assertKeyRefused(await admin(port, 'GET', '/v1/admin/tunnel', 'wrong'));
    assertKeyRefused(await admin(port, 'GET', '/v1/admin/tunnel', 'kk'));
    assertKeyRefused(await api(port, 'GET', '/v1/admin/tunnel'));
    assertKeyRefused(await api(port, 'GET', '/v1/admin/tunnel', { headers: { authorization: 'Bearer' } }));
    assertKeyRefused(await api(port, 'GET', '/v1/admin/tunnel', { headers: { authorization: `Bearer ${KEY}` } }));
    assertKeyRefused(await admin(port, 'GET', '/v1/admin/tunnel?count=1000', 'wrong'));
    assertKeyRefused(await admin(port, 'GET', '/v1/admin/tunnel/BAD', 'wrong'));
    assertKeyRefused(await admin(port, 'POST', '/v1/admin/account', undefined));
  });

  test('unknown admin routes → 404 text, with or without the key', async () => {
    assertText(await admin(port, 'GET', '/v1/admin/nothing', KEY), 404, 'Not Found');
    assertText(await admin(port, 'PATCH', '/v1/admin/account', KEY), 404, 'Not Found');
    assertText(await api(port, 'GET', '/v1/admin'), 404, 'Not Found');
    assertText(await api(port, 'GET', '/elsewhere'), 404, 'Not Found');
  });

  test('POST /v1/admin/account → 201 account object', async () => {
    const res = await admin(port, 'POST', '/v1/admin/account', KEY);
    assert.equal(res.status, 201);
    const a = res.json;
    assert.match(a.account_id, ACCOUNT_RE);
    assert.match(a.created_at, ISO_RE);
    assertJson(res, 201, {
      account_id: a.account_id,
      account_id_hr: a.account_id.match(/.{4}/g).join('-'),
      tunnels: [],
      status: { disabled: false },
      created_at: a.created_at,
      updated_at: a.created_at,
    });
  });

  test('GET /v1/admin/account/<account> in any form → 200; unknown → 404 {}', async () => {
    const { account_id: id } = (await admin(port, 'POST', '/v1/admin/account', KEY)).json;
    const hr = id.match(/.{4}/g).join('-');
    for (const form of [id, hr.toLowerCase(), encodeURIComponent(id.match(/.{4}/g).join(' '))]) {
      const res = await admin(port, 'GET', `/v1/admin/account/${form}`, KEY);
      assert.equal(res.status, 200, form);
      assert.equal(res.json.account_id, id);
    }
    assertJson(await admin(port, 'GET', '/v1/admin/account/CDEFHJKMNPRTVWXY', KEY), 404, {});
    assertJson(await admin(port, 'GET', '/v1/admin/account/garbage', KEY), 404, {});
  });

  test('§12.65 disable with a reason → 200, status.disabled, disabled_reason; enable clears them', async () => {
    const { account_id: id } = (await admin(port, 'POST', '/v1/admin/account', KEY)).json;
    const res = await admin(port, 'PUT', `/v1/admin/account/${id}/disable`, KEY, { body: { disable: true, reason: 'spam' } });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(res.json.status.disabled, true);
    assert.equal(res.json.status.disabled_reason, 'spam');
    assert.match(res.json.status.disabled_at, ISO_RE);
    assert.deepEqual(Object.keys(res.json), ['account_id', 'account_id_hr', 'tunnels', 'status', 'created_at', 'updated_at']);
    const again = await admin(port, 'GET', `/v1/admin/account/${id}`, KEY);
    assert.equal(again.json.status.disabled, true);
    const enabled = await admin(port, 'PUT', `/v1/admin/account/${id}/disable`, KEY, { body: { disable: 'false' } });
    assert.equal(enabled.status, 200);
    assert.deepEqual(enabled.json.status, { disabled: false });
  });

  test('§12.65 disable body validation, unknown account → 404 text', async () => {
    const { account_id: id } = (await admin(port, 'POST', '/v1/admin/account', KEY)).json;
    const path = `/v1/admin/account/${id}/disable`;
    assertBadInput(await admin(port, 'PUT', path, KEY, { body: {} }), '"disable" is required');
    assertBadInput(await admin(port, 'PUT', path, KEY, { body: { disable: 'no' } }), '"disable" must be a boolean');
    assertBadInput(await admin(port, 'PUT', path, KEY, { body: { disable: true, reason: 5 } }), '"reason" must be a string');
    assertBadInput(await admin(port, 'PUT', path, KEY, { body: { disable: true, reason: 'x'.repeat(257) } }),
      '"reason" length must be less than or equal to 256 characters long');
    assertBadInput(await admin(port, 'PUT', path, KEY, { body: { disable: true, why: 'x' } }), '"why" is not allowed');
    assertBadInput(await admin(port, 'PUT', path, KEY, { body: '{}', contentType: 'text/plain' }), 'content-type: expected json');
    const ok = await admin(port, 'PUT', path, KEY, { body: { disable: true, reason: 'x'.repeat(256) } });
    assert.equal(ok.status, 200);
    assertText(await admin(port, 'PUT', '/v1/admin/account/CDEFHJKMNPRTVWXY/disable', KEY, { body: { disable: true } }), 404, 'Not Found');
  });

  test('D18 DELETE /v1/admin/account/<formatted id> → 204 and deletes its tunnels', async () => {
    const user = await newAccount(srv.port);
    await newTunnel(srv.port, user, 'doomed-1');
    await newTunnel(srv.port, user, 'doomed-2');
    const res = await admin(port, 'DELETE', `/v1/admin/account/${user.hr.toLowerCase()}`, KEY);
    assert.equal(res.status, 204, res.body);
    assert.equal(res.body, '');
    for (const id of ['doomed-1', 'doomed-2']) {
      assertJson(await admin(port, 'GET', `/v1/admin/tunnel/${id}`, KEY), 404, { error: 'TUNNEL_NOT_FOUND' });
    }
    assertJson(await admin(port, 'GET', `/v1/admin/account/${user.id}`, KEY), 404, {});
    assertJson(await admin(port, 'DELETE', `/v1/admin/account/${user.id}`, KEY), 500, {});
    assertJson(await admin(port, 'DELETE', '/v1/admin/account/not-an-account', KEY), 500, {});
  });

  test('D18 disabling with a formatted id disables the account', async () => {
    const user = await newAccount(srv.port);
    const res = await admin(port, 'PUT', `/v1/admin/account/${encodeURIComponent(user.hr.toLowerCase().replace(/-/g, ' '))}/disable`, KEY,
      { body: { disable: true } });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.account_id, user.id);
    assert.equal(res.json.status.disabled, true);
  });

  test('GET /v1/admin/tunnel/<id> → the admin tunnel object with the token', async () => {
    const user = await newAccount(srv.port);
    const created = await newTunnel(srv.port, user, 'admin-view', { target: { url: 'http://example.com/' } });
    const res = await admin(port, 'GET', '/v1/admin/tunnel/admin-view', KEY);
    assert.equal(res.status, 200);
    const t = res.json;
    assert.match(t.transport.token, /^[A-Za-z0-9_-]{86}$/);
    assert.match(t.updated_at, ISO_RE);
    assertJson(res, 200, {
      tunnel_id: 'admin-view',
      account_id: user.id,
      connection: { connected: false },
      connections: [],
      transport: { token: t.transport.token, max_connections: 2 },
      ingress: { http: { enabled: false, urls: [], alt_names: [] }, sni: { enabled: false, urls: [] } },
      target: { url: 'http://example.com/' },
      created_at: created.created_at,
      updated_at: t.updated_at,
    });
  });

  test('admin tunnel routes: missing, bad ids, delete, disconnect', async () => {
    const user = await newAccount(srv.port);
    await newTunnel(srv.port, user, 'admin-ops');
    assertJson(await admin(port, 'GET', '/v1/admin/tunnel/no-such-tunnel', KEY), 404, { error: 'TUNNEL_NOT_FOUND' });
    assertBadInput(await admin(port, 'GET', '/v1/admin/tunnel/AB', KEY),
      `"tunnel_id" with value "AB" fails to match the required pattern: ${TUNNEL_ID_REGEX}`);
    assertBadInput(await admin(port, 'DELETE', '/v1/admin/tunnel/AB', KEY),
      `"tunnel_id" with value "AB" fails to match the required pattern: ${TUNNEL_ID_REGEX}`);
    assertJson(await admin(port, 'POST', '/v1/admin/tunnel/admin-ops/disconnect', KEY), 200, { result: true });
    assertJson(await admin(port, 'POST', '/v1/admin/tunnel/no-such-tunnel/disconnect', KEY), 403, { details: 'no_such_tunnel' });
    const del = await admin(port, 'DELETE', '/v1/admin/tunnel/admin-ops', KEY);
    assert.equal(del.status, 204);
    assertJson(await admin(port, 'DELETE', '/v1/admin/tunnel/admin-ops', KEY), 403, { error: 'UNKNOWN_ERROR', details: 'no_such_tunnel' });
    assertJson(await api(srv.port, 'GET', '/v1/tunnel/admin-ops', { token: user.token }), 404, { error: 'TUNNEL_NOT_FOUND' });
    const acct = await admin(port, 'GET', `/v1/admin/account/${user.id}`, KEY);
    assert.deepEqual(acct.json.tunnels, []);
  });

  test('§12.64 verbose tunnel list: tunnel objects, and the cursor can be passed back (D7)', async () => {
    const user = await newAccount(srv.port);
    const mine = ['list-a1', 'list-a2', 'list-a3', 'list-a4', 'list-a5'];
    for (const id of mine) await newTunnel(srv.port, user, id);
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const q = `/v1/admin/tunnel?verbose=true&count=2${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await admin(port, 'GET', q, KEY);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(Object.keys(res.json), ['cursor', 'tunnels']);
      for (const t of res.json.tunnels) {
        assert.equal(typeof t.tunnel_id, 'string');
        assert.match(t.created_at, ISO_RE);
        assert.match(t.updated_at, ISO_RE);
        assert.match(t.transport.token, /^[A-Za-z0-9_-]{86}$/);
        assert.ok('account_id' in t);
        seen.push(t.tunnel_id);
      }
      cursor = res.json.cursor;
      assert.ok(cursor === null || typeof cursor === 'string');
      pages++;
    } while (cursor !== null && pages < 100);
    assert.ok(pages >= 3, `${pages} pages of at most 2`);
    for (const id of mine) assert.equal(seen.filter((x) => x === id).length, 1, `${id} exactly once`);
  });

  test('§12.64 plain tunnel list: ids; count limits and other query errors → 400', async () => {
    const res = await admin(port, 'GET', '/v1/admin/tunnel', KEY);
    assert.equal(res.status, 200);
    assert.ok(res.json.tunnels.every((t) => typeof t === 'string'));
    const base = '/v1/admin/tunnel';
    assertBadInput(await admin(port, 'GET', `${base}?count=101`, KEY), '"count" must be less than or equal to 100');
    assertBadInput(await admin(port, 'GET', `${base}?count=0`, KEY), '"count" must be greater than or equal to 1');
    assertBadInput(await admin(port, 'GET', `${base}?count=abc`, KEY), '"count" must be a number');
    assertBadInput(await admin(port, 'GET', `${base}?count=1.5`, KEY), '"count" must be an integer');
    assertBadInput(await admin(port, 'GET', `${base}?count=1&count=2`, KEY), '"count" must be a number');
    assertBadInput(await admin(port, 'GET', `${base}?verbose=maybe`, KEY), '"verbose" must be a boolean');
    assertBadInput(await admin(port, 'GET', `${base}?sort=asc`, KEY), '"sort" is not allowed');
    assert.equal((await admin(port, 'GET', `${base}?count=100&verbose=FALSE`, KEY)).status, 200);
    assert.equal((await admin(port, 'GET', `${base}?count=1`, KEY)).status, 200);
  });

  test('account list: stored records, non-verbose reduced; cursor passes back', async () => {
    for (let i = 0; i < 3; i++) await admin(port, 'POST', '/v1/admin/account', KEY);
    const res = await admin(port, 'GET', '/v1/admin/account?count=2', KEY);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(Object.keys(res.json), ['cursor', 'accounts']);
    assert.equal(res.json.accounts.length, 2);
    for (const a of res.json.accounts) {
      assert.deepEqual(Object.keys(a), ['accountId', 'id', 'tunnels', 'status']);
    }
    assert.equal(typeof res.json.cursor, 'string');
    const next = await admin(port, 'GET', `/v1/admin/account?count=2&verbose=true&cursor=${encodeURIComponent(res.json.cursor)}`, KEY);
    assert.equal(next.status, 200, next.body);
    assert.ok(next.json.accounts.every((a) => 'created_at' in a && 'updated_at' in a));
    assertBadInput(await admin(port, 'GET', '/v1/admin/account?count=101', KEY), '"count" must be less than or equal to 100');
  });

  test('§12.66 GET /v1/admin/cluster lists this node, fresh', async () => {
    const res = await admin(port, 'GET', '/v1/admin/cluster', KEY);
    assert.equal(res.status, 200);
    assert.equal(res.json.nodes.length, 1);
    const [node] = res.json.nodes;
    assert.deepEqual(Object.keys(node), ['node_id', 'host', 'ip', 'alive_at', 'alive_age', 'is_stale']);
    assert.match(node.node_id, /^[0-9a-f]{40}$/);
    assert.equal(node.host, `${srv.proc.pid}@${(await import('node:os')).hostname()}`);
    assert.match(node.ip, /^[0-9a-f.:]+$/);
    assert.match(node.alive_at, ISO_RE);
    assert.equal(node.alive_age, 0);
    assert.equal(node.is_stale, false);
  });
});

describe('admin API without a key', () => {
  test('§12.62 every admin route → 404 (text)', async () => {
    const port = await freePort();
    const srv = await startExposrd({ args: ['--admin-api-enable', '--admin-api-port', String(port)], waitPort: port });
    try {
      for (const [method, path] of [['GET', '/v1/admin/tunnel'], ['POST', '/v1/admin/account'], ['GET', '/v1/admin/cluster']]) {
        assertText(await admin(port, method, path, 'anything'), 404, 'Not Found');
        assertText(await api(port, method, path), 404, 'Not Found');
      }
    } finally {
      await stopOk(srv);
    }
  });

  test('allow-access-without-key: no authentication at all', async () => {
    const port = await freePort();
    const srv = await startExposrd({
      args: ['--admin-api-enable', '--admin-api-port', String(port), '--admin-api-allow-access-without-key'],
      waitPort: port,
    });
    try {
      assert.equal((await api(port, 'GET', '/v1/admin/tunnel')).status, 200);
      assert.equal((await admin(port, 'GET', '/v1/admin/cluster', 'whatever')).status, 200);
    } finally {
      await stopOk(srv);
    }
  });

  test('a key wins over allow-access-without-key', async () => {
    const port = await freePort();
    const srv = await startExposrd({
      config: (p) => baseConfig(p, { modules: { 'admin-api': { port, key: 'secret', 'allow-access-without-key': true } } }),
      waitPort: port,
    });
    try {
      assertKeyRefused(await api(port, 'GET', '/v1/admin/tunnel'));
      assert.equal((await admin(port, 'GET', '/v1/admin/tunnel', 'secret')).status, 200);
    } finally {
      await stopOk(srv);
    }
  });
});

describe('admin interface and admin API on one port (D6)', () => {
  test('§12.63 /ping and /v1/admin/tunnel both answer when both use the same port', async () => {
    const port = await freePort();
    const srv = await startExposrd({
      args: ['--admin-enable', '--admin-api-enable', '--admin-api-key', KEY,
        '--admin-port', String(port), '--admin-api-port', String(port)],
      waitPort: port,
    });
    try {
      assertText(await api(port, 'GET', '/ping'), 200, 'OK');
      assertText(await api(port, 'GET', '/health'), 200, 'OK');
      assert.equal((await admin(port, 'GET', '/v1/admin/tunnel', KEY)).status, 200);
      assertKeyRefused(await api(port, 'GET', '/v1/admin/tunnel'));
      assertText(await api(port, 'GET', '/other'), 404, 'Not Found');
      const cluster = await admin(port, 'GET', '/v1/admin/cluster', KEY);
      assert.equal(cluster.status, 200);
      assert.equal(cluster.json.nodes.length, 1);
    } finally {
      await stopOk(srv);
    }
  });
});
