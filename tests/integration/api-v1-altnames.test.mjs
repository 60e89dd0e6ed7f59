// Public API v1: alt-names (docs/api.md §2.9, D8, D9, docs/compatibility.md §13) checked against a DNS server
// the test runs on 127.0.0.1 (modules.api-v1.dns-server).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { admin, api, assertJson, newAccount, newTunnel, startDnsServer } from './lib/api.mjs';
import { baseConfig, freePort, startExposrd } from './lib/exposrd.mjs';

const KEY = 'admin-key';

// Names under example.net point at the tunnel named by their first label.
const RECORDS = {
  'shop.example.net': 'alt-one.localhost',
  'www.example.net': 'alt-one.localhost',
  'blog.example.net': 'alt-two.localhost',
  'Mixed.Example.net': 'alt-one.localhost',
  'elsewhere.example.net': 'someone-else.example.org',
  'silent.example.net': null,
};

describe('alt-names', () => {
  // The DNS server reads this object at every query: tests repoint names.
  const records = { ...RECORDS };
  let srv;
  let dns;
  let adminPort;
  let alice;
  let bob;

  function config(port) {
    return baseConfig(port, {
      modules: {
        'api-v1': { port, 'allow-registration': true, 'dns-server': `127.0.0.1:${dns.port}` },
        'transport-ws': { port },
        'ingress-http': { port, url: 'http://localhost:8080' },
        'admin-api': { port: adminPort, key: KEY },
      },
    });
  }

  before(async () => {
    dns = await startDnsServer(records);
    adminPort = await freePort();
    srv = await startExposrd({ config });
    alice = await newAccount(srv.port);
    bob = await newAccount(srv.port);
    await newTunnel(srv.port, alice, 'alt-one', { ingress: { http: { enabled: true } } });
    await newTunnel(srv.port, bob, 'alt-two', { ingress: { http: { enabled: true } } });
  });
  after(async () => {
    const { code, stderr } = await srv.stop();
    await dns.close();
    assert.equal(code, 0, stderr);
  });

  const setNames = (who, id, names, extra = {}) => api(srv.port, 'PATCH', `/v1/tunnel/${id}`, {
    token: who.token, body: { ingress: { http: { alt_names: names, ...extra } } },
  });
  const storedNames = async (id) => (await admin(adminPort, 'GET', `/v1/admin/tunnel/${id}`, KEY)).json.ingress.http.alt_names;

  test('a name whose CNAME is <id>.<ingress host> is accepted; URLs follow', async () => {
    const res = await setNames(alice, 'alt-one', ['shop.example.net']);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json.ingress.http, {
      enabled: true,
      url: 'http://alt-one.localhost:8080/',
      urls: ['http://alt-one.localhost:8080/', 'http://shop.example.net:8080/'],
      alt_names: ['shop.example.net'],
    });
  });

  test('§12.15 a CNAME pointing elsewhere → 400 TUNNEL_INGRESS_BAD_ALT_NAMES; stored names unchanged', async () => {
    const before = await storedNames('alt-one');
    const res = await setNames(alice, 'alt-one', ['shop.example.net', 'elsewhere.example.net']);
    assertJson(res, 400, { error: 'TUNNEL_INGRESS_BAD_ALT_NAMES', details: 'elsewhere.example.net' });
    assert.deepEqual(await storedNames('alt-one'), before);
  });

  test('§12.15 no CNAME at all, or one for another tunnel, is refused too; every bad name listed in order', async () => {
    const res = await setNames(alice, 'alt-one', ['nothing.example.net', 'www.example.net', 'blog.example.net']);
    assertJson(res, 400, { error: 'TUNNEL_INGRESS_BAD_ALT_NAMES', details: 'nothing.example.net, blog.example.net' });
  });

  test('§12.15 a DNS server that does not answer counts as a failed check', async () => {
    const started = Date.now();
    const res = await setNames(alice, 'alt-one', ['silent.example.net']);
    assertJson(res, 400, { error: 'TUNNEL_INGRESS_BAD_ALT_NAMES', details: 'silent.example.net' });
    assert.ok(Date.now() - started < 4500, 'answered within the clients\' 5 s');
  });

  test('D8 the stored list is every requested valid name, in request order', async () => {
    let res = await setNames(alice, 'alt-one', ['shop.example.net', 'www.example.net']);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json.ingress.http.alt_names, ['shop.example.net', 'www.example.net']);
    res = await setNames(alice, 'alt-one', ['www.example.net', 'shop.example.net']);
    assert.deepEqual(res.json.ingress.http.alt_names, ['www.example.net', 'shop.example.net']);
    assert.deepEqual(res.json.ingress.http.urls.slice(1), ['http://www.example.net:8080/', 'http://shop.example.net:8080/']);
    res = await setNames(alice, 'alt-one', ['MIXED.example.NET', 'www.example.net', 'mixed.example.net']);
    assert.deepEqual(res.json.ingress.http.alt_names, ['mixed.example.net', 'www.example.net'], 'lower-cased, duplicates once');
  });

  test('an unchanged set needs no DNS lookups', async () => {
    await setNames(alice, 'alt-one', ['shop.example.net']);
    const asked = dns.queries.length;
    const res = await api(srv.port, 'PATCH', '/v1/tunnel/alt-one', { token: alice.token, body: { target: { url: 'http://x.test/' } } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.ingress.http.alt_names, ['shop.example.net']);
    assert.equal((await setNames(alice, 'alt-one', ['shop.example.net'])).status, 200);
    assert.equal(dns.queries.length, asked);
  });

  test('§13 a name held by another tunnel → 409 with the name in details; nothing changes', async () => {
    // The name first points at alt-two, which claims it; then its owner repoints it.
    records['contested.example.net'] = 'alt-two.localhost';
    assert.equal((await setNames(bob, 'alt-two', ['contested.example.net'])).status, 200);
    records['contested.example.net'] = 'alt-one.localhost';
    await setNames(alice, 'alt-one', ['shop.example.net']);
    const res = await setNames(alice, 'alt-one', ['shop.example.net', 'contested.example.net']);
    assertJson(res, 409, { error: 'TUNNEL_INGRESS_BAD_ALT_NAMES', details: 'contested.example.net' });
    assert.deepEqual(await storedNames('alt-one'), ['shop.example.net']);
    assert.deepEqual(await storedNames('alt-two'), ['contested.example.net']);
  });

  test('null releases every name, so another tunnel can claim them', async () => {
    records['handover.example.net'] = 'alt-two.localhost';
    assert.equal((await setNames(bob, 'alt-two', ['handover.example.net'])).status, 200);
    const released = await setNames(bob, 'alt-two', null);
    assert.equal(released.status, 200);
    assert.deepEqual(released.json.ingress.http.alt_names, []);
    assert.deepEqual(released.json.ingress.http.urls, ['http://alt-two.localhost:8080/']);
    records['handover.example.net'] = 'alt-one.localhost';
    const res = await setNames(alice, 'alt-one', ['handover.example.net']);
    assert.equal(res.status, 200, res.body);
  });

  test('deleting a tunnel releases its names', async () => {
    await newTunnel(srv.port, bob, 'alt-three', { ingress: { http: { enabled: true } } });
    records['moving.example.net'] = 'alt-three.localhost';
    assert.equal((await setNames(bob, 'alt-three', ['moving.example.net'])).status, 200);
    assert.equal((await api(srv.port, 'DELETE', '/v1/tunnel/alt-three', { token: bob.token })).status, 204);
    records['moving.example.net'] = 'alt-two.localhost';
    const res = await setNames(bob, 'alt-two', ['moving.example.net']);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json.ingress.http.alt_names, ['moving.example.net']);
  });

  test('names are kept while the HTTP ingress is disabled for the tunnel', async () => {
    records['kept.example.net'] = 'alt-two.localhost';
    const res = await setNames(bob, 'alt-two', ['kept.example.net'], { enabled: false });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json.ingress.http, {}, 'disabled: {} in the public object');
    const stored = (await admin(adminPort, 'GET', '/v1/admin/tunnel/alt-two', KEY)).json.ingress.http;
    assert.deepEqual(stored, { enabled: false, urls: [], alt_names: ['kept.example.net'] });
  });
});
