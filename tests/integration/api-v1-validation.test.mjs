// Public API v1: bad input of every kind gets the documented 400/401/413, validation comes
// before authentication, and the server keeps serving afterwards (docs/api.md §2.1, §2.5).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { TUNNEL_ID_REGEX, api, assertBadInput, assertJson, newAccount, newTunnel } from './lib/api.mjs';
import { rawRequest, startExposrd } from './lib/exposrd.mjs';

describe('bad input', () => {
  let srv;
  let acct;
  before(async () => {
    srv = await startExposrd();
    acct = await newAccount(srv.port);
    await newTunnel(srv.port, acct, 'valid-tunnel');
  });
  after(async () => {
    const { code, stderr } = await srv.stop();
    assert.equal(code, 0, stderr);
  });

  // Every test ends by checking the server still answers normally.
  async function stillServing() {
    const res = await api(srv.port, 'GET', '/v1/tunnel/valid-tunnel', { token: acct.token });
    assert.equal(res.status, 200, res.body);
  }

  const patch = (body, opts = {}) => api(srv.port, 'PATCH', '/v1/tunnel/valid-tunnel', { token: acct.token, body, ...opts });

  test('invalid JSON → 400 content-type: <parser message>', async () => {
    for (const text of ['{', '{"a" 1}', '{"target":}', '{} trailing', '[1,]']) {
      const res = await patch(text);
      assert.equal(res.status, 400, text);
      assert.equal(res.json.error, 'BAD_INPUT');
      assert.match(res.json.field, /^content-type: Unexpected (token .+ in JSON at position \d+|end of JSON input)$/);
    }
    assertBadInput(await patch('"just a string"'), 'content-type: invalid JSON, only supports object and array');
    assertBadInput(await patch('42'), 'content-type: invalid JSON, only supports object and array');
    await stillServing();
  });

  test('wrong content type → 400 content-type: expected json; +json types are JSON', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp']) {
      assertBadInput(await patch('{}', { contentType: type }), 'content-type: expected json');
    }
    const ok = await patch('{}', { contentType: 'application/merge-patch+json; charset=utf-8' });
    assert.equal(ok.status, 200);
    const upper = await patch('{}', { contentType: 'Application/JSON' });
    assert.equal(upper.status, 200);
    await stillServing();
  });

  test('an empty JSON body counts as {}; a missing body is "expected json"', async () => {
    const empty = await patch('');
    assert.equal(empty.status, 200, empty.body);
    const raw = await rawRequest(srv.port,
      'PATCH /v1/tunnel/valid-tunnel HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Authorization: Bearer ${acct.token}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.ok(raw.endsWith('{"error":"BAD_INPUT","field":"content-type: expected json"}'), raw);
    await stillServing();
  });

  test('a body over 64 KiB → 413', async () => {
    const big = JSON.stringify({ target: { url: `http://example.com/${'x'.repeat(70 * 1024)}` } });
    const res = await patch(big);
    assert.equal(res.status, 413);
    const exactly = JSON.stringify({ target: { url: 'http://example.com/' } }).padEnd(64 * 1024, ' ');
    assert.equal((await patch(exactly)).status, 200);
    await stillServing();
  });

  test('unknown keys at every level → 400 "<path>" is not allowed', async () => {
    assertBadInput(await patch({ foo: 1 }), '"foo" is not allowed');
    assertBadInput(await patch({ ingress: { https: {} } }), '"ingress.https" is not allowed');
    assertBadInput(await patch({ ingress: { http: { enabled: true, url: 'x' } } }), '"ingress.http.url" is not allowed');
    assertBadInput(await patch({ target: { url: null, host: 'x' } }), '"target.host" is not allowed');
    assertBadInput(await patch({ transport: { tcp: {} } }), '"transport.tcp" is not allowed');
    assertBadInput(await patch({ transport: { ws: { enabled: true, port: 1 } } }), '"transport.ws.port" is not allowed');
    await stillServing();
  });

  test('wrong types → 400 with Joi\'s messages', async () => {
    assertBadInput(await patch([]), '"value" must be of type object');
    assertBadInput(await patch({ target: 'http://x/' }), '"target" must be of type object');
    assertBadInput(await patch({ target: null }), '"target" must be of type object');
    assertBadInput(await patch({ target: { url: 7 } }), '"target.url" must be a string');
    assertBadInput(await patch({ target: { url: '' } }), '"target.url" is not allowed to be empty');
    assertBadInput(await patch({ target: { url: 'example.com' } }), '"target.url" must be a valid uri');
    assertBadInput(await patch({ target: { url: 'http://exa mple.com/' } }), '"target.url" must be a valid uri');
    assertBadInput(await patch({ ingress: { http: { enabled: 1 } } }), '"ingress.http.enabled" must be a boolean');
    assertBadInput(await patch({ ingress: { http: { enabled: 'yes' } } }), '"ingress.http.enabled" must be a boolean');
    assertBadInput(await patch({ ingress: { sni: { enabled: null } } }), '"ingress.sni.enabled" must be a boolean');
    assertBadInput(await patch({ transport: { ws: { enabled: [] } } }), '"transport.ws.enabled" must be a boolean');
    assertBadInput(await patch({ transport: { ssh: true } }), '"transport.ssh" must be of type object');
    assertBadInput(await patch({ ingress: { http: { alt_names: 'a.example.com' } } }), '"ingress.http.alt_names" must be an array');
    assertBadInput(await patch({ ingress: { http: { alt_names: ['a.example.com', 5] } } }), '"ingress.http.alt_names[1]" must be a string');
    assertBadInput(await patch({ ingress: { http: { alt_names: [''] } } }), '"ingress.http.alt_names[0]" is not allowed to be empty');
    for (const name of ['localhost', 'a..com', '-a.example.com', 'a_b.example.com', 'example.com.', 'x.123']) {
      assertBadInput(await patch({ ingress: { http: { alt_names: [name] } } }), '"ingress.http.alt_names[0]" must contain a valid domain name');
    }
    const eleven = Array.from({ length: 11 }, (_, i) => `n${i}.example.com`);
    assertBadInput(await patch({ ingress: { http: { alt_names: eleven } } }), '"ingress.http.alt_names" must contain less than or equal to 10 items');
    await stillServing();
  });

  test('booleans accept the strings "true" and "false" (any case)', async () => {
    const res = await patch({ transport: { ws: { enabled: 'true' }, ssh: { enabled: 'False' } }, ingress: { http: { enabled: 'FALSE' } } });
    assert.equal(res.status, 200, res.body);
  });

  test('the first failure in Joi\'s order is reported', async () => {
    assertBadInput(await patch({ zzz: 1, target: { url: 5 } }), '"target.url" must be a string');
    assertBadInput(await patch({ transport: { ws: { enabled: 2 } }, ingress: { http: { enabled: 3 } } }), '"ingress.http.enabled" must be a boolean');
  });

  test('bad tunnel ids → 400 with the pattern, on every tunnel route', async () => {
    const cases = [['GET', 'AB'], ['PUT', 'AB'], ['PATCH', 'Tunnel1'], ['DELETE', 'a.b.c.d'], ['GET', 'a%20bcd']];
    for (const [method, id] of cases) {
      const body = method === 'PUT' || method === 'PATCH' ? {} : undefined;
      const res = await api(srv.port, method, `/v1/tunnel/${id}`, { token: acct.token, body });
      assertBadInput(res, `"tunnel_id" with value "${decodeURIComponent(id)}" fails to match the required pattern: ${TUNNEL_ID_REGEX}`);
    }
    await stillServing();
  });

  test('validation comes before authentication; content type before the id', async () => {
    assertBadInput(await api(srv.port, 'GET', '/v1/tunnel/AB'),
      `"tunnel_id" with value "AB" fails to match the required pattern: ${TUNNEL_ID_REGEX}`);
    assertBadInput(await api(srv.port, 'PATCH', '/v1/tunnel/valid-tunnel', { body: { foo: 1 } }), '"foo" is not allowed');
    assertBadInput(await api(srv.port, 'PUT', '/v1/tunnel/AB', { body: { foo: 1 }, contentType: 'text/plain' }), 'content-type: expected json');
    assertBadInput(await api(srv.port, 'PUT', '/v1/tunnel/AB', { body: { foo: 1 } }),
      `"tunnel_id" with value "AB" fails to match the required pattern: ${TUNNEL_ID_REGEX}`);
  });

  test('garbage Authorization headers → 401 AUTH_NO_TOKEN or PERMISSION_DENIED', async () => {
    // No second word, or one that decodes to nothing.
    const noToken = ['', 'Bearer', 'Bearer ', 'Bearer  ' + acct.token, 'Bearer ====', 'Bearer !!!!', 'Bearer x'];
    for (const authorization of noToken) {
      const res = await api(srv.port, 'GET', '/v1/tunnel/valid-tunnel', { headers: { authorization } });
      assertJson(res, 401, { error: 'AUTH_NO_TOKEN' });
    }
    // Something that is not an existing account's number.
    const denied = ['Bearer eA==', 'Basic dXNlcjpwYXNz', `Bearer ${'A'.repeat(4000)}`,
      `Bearer ${Buffer.from([0xff, 0xfe, 0x00]).toString('base64')}`, `Bearer ${Buffer.from('CDEFHJKMNPRTVWXY').toString('base64')}`];
    for (const authorization of denied) {
      const res = await api(srv.port, 'GET', '/v1/tunnel/valid-tunnel', { headers: { authorization } });
      assertJson(res, 401, { error: 'PERMISSION_DENIED' });
    }
    // The first word is not checked, and junk in the base64 is skipped.
    const ok = await api(srv.port, 'GET', '/v1/tunnel/valid-tunnel', { headers: { authorization: `Token ${acct.token.slice(0, 4)}!${acct.token.slice(4)}` } });
    assert.equal(ok.status, 200, ok.body);
    await stillServing();
  });

  test('a request without a Host header → 400 with an empty body', async () => {
    const raw = await rawRequest(srv.port, 'GET /v1/tunnel/valid-tunnel HTTP/1.0\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.[01] 400 /);
    assert.match(raw, /\r\nContent-Length: 0\r\n/i);
    assert.ok(raw.endsWith('\r\n\r\n'), raw);
    await stillServing();
  });

  test('a Host the URL parser refuses → 400 with an empty body', async () => {
    for (const host of ['bad host', 'h:99999', 'h:12ab']) {
      const raw = await rawRequest(srv.port, `GET /v1/tunnel/valid-tunnel HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.match(raw, /^HTTP\/1\.1 400 /, host);
    }
    await stillServing();
  });
});
