// Public API v1: account registration and access tokens (docs/api.md §2.2, §2.3).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ACCOUNT_RE, api, assertJson, assertText, b64 } from './lib/api.mjs';
import { baseConfig, startExposrd } from './lib/exposrd.mjs';

describe('with --allow-registration', () => {
  let srv;
  before(async () => { srv = await startExposrd(); });
  after(async () => {
    const { code, stderr } = await srv.stop();
    assert.equal(code, 0, stderr);
  });

  test('§12.2 POST /v1/account → 201 with account_id and account_id_hr', async () => {
    const res = await api(srv.port, 'POST', '/v1/account');
    assert.equal(res.status, 201);
    const { account_id: id, account_id_hr: hr } = res.json;
    assert.match(id, ACCOUNT_RE);
    assert.equal(hr, id.match(/.{4}/g).join('-'));
    assertJson(res, 201, { account_id: id, account_id_hr: hr });
  });

  test('POST /v1/account ignores any body (the new client sends {})', async () => {
    const res = await api(srv.port, 'POST', '/v1/account', { body: { anything: [1, 2] } });
    assert.equal(res.status, 201);
    assert.match(res.json.account_id, ACCOUNT_RE);
    const text = await api(srv.port, 'POST', '/v1/account', { body: 'not json', contentType: 'text/plain' });
    assert.equal(text.status, 201);
  });

  test('§12.4 token → 201 {"token":base64(id)} for canonical, dashed, spaced and lower-case forms', async () => {
    const { account_id: id, account_id_hr: hr } = (await api(srv.port, 'POST', '/v1/account')).json;
    const spaced = id.match(/.{4}/g).join(' ');
    const forms = [id, hr, spaced, hr.toLowerCase(), `  ${spaced.toLowerCase()}  `, `${hr.slice(0, 7)} ${hr.slice(7)}`];
    for (const form of forms) {
      const res = await api(srv.port, 'GET', `/v1/account/${encodeURIComponent(form)}/token`);
      assertJson(res, 201, { token: b64(id) });
    }
  });

  test('§12.4 token of an unknown or malformed account → 403 PERMISSION_DENIED', async () => {
    for (const account of ['CDEFHJKMNPRTVWXY', 'CDEF', 'ABCDEFGHIJKLMNOP', 'not%20an%20account', '%ZZ']) {
      const res = await api(srv.port, 'GET', `/v1/account/${account}/token`);
      assertJson(res, 403, { error: 'PERMISSION_DENIED' });
    }
  });

  test('unknown routes and methods → 404 text', async () => {
    assertText(await api(srv.port, 'GET', '/v1/account'), 404, 'Not Found');
    assertText(await api(srv.port, 'DELETE', '/v1/account'), 404, 'Not Found');
    assertText(await api(srv.port, 'POST', '/v1/account/X/token'), 404, 'Not Found');
  });

  test('paths outside /v1/ are not the API\'s: 404 JSON from the listener', async () => {
    for (const p of ['/', '/v2/account', '/favicon.ico']) {
      const res = await api(srv.port, 'GET', p);
      assert.equal(res.status, 404, p);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(res.body), { error: 'NOT_FOUND' });
    }
  });

  test('paths match without regard to case and with a trailing slash, as koa-router', async () => {
    const res = await api(srv.port, 'POST', '/V1/Account/');
    assert.equal(res.status, 201);
  });
});

describe('without --allow-registration', () => {
  let srv;
  before(async () => {
    srv = await startExposrd({
      config: (port) => baseConfig(port, { modules: { 'api-v1': { port } } }),
    });
  });
  after(async () => {
    const { code, stderr } = await srv.stop();
    assert.equal(code, 0, stderr);
  });

  test('§12.3 POST /v1/account → 404, its JSON body says registration is disabled', async () => {
    assertJson(await api(srv.port, 'POST', '/v1/account'), 404, {
      error: 'ACCOUNT_REGISTRATION_DISABLED',
      details: 'this server does not register accounts (--allow-registration); its admin '
        + 'creates them with POST /v1/admin/account',
    });
  });
});

describe('--allow-registration as a flag', () => {
  async function registration(yaml, args) {
    const srv = await startExposrd({
      config: (port) => baseConfig(port, { modules: { 'api-v1': { port, 'allow-registration': yaml } } }),
      args,
    });
    try {
      return (await api(srv.port, 'POST', '/v1/account')).status;
    } finally {
      const { code, stderr } = await srv.stop();
      assert.equal(code, 0, stderr);
    }
  }

  test('§12.2 the flag turns registration on', async () => {
    assert.equal(await registration(false, ['--allow-registration']), 201);
  });

  test('§12.3 --allow-registration false overrides the YAML file', async () => {
    assert.equal(await registration(true, ['--allow-registration', 'false']), 404);
  });
});
