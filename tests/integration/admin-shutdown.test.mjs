// The admin interface while the server shuts down (docs/api.md §3.1): /health turns 404,
// /ping stays 200. An alt-name check waiting for a DNS server that never answers keeps the
// API draining long enough to look.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';

import { api, keepAliveConnection, newAccount, newTunnel } from './lib/api.mjs';
import { baseConfig, freePort, startExposrd } from './lib/exposrd.mjs';
import { onceWithin } from './lib/deadline.mjs';

describe('shutdown with an API call pending', () => {
  let silent;
  let srv;
  let probe;
  let pending;
  let stopped;
  before(async () => {
    silent = dgram.createSocket('udp4');
    silent.bind(0, '127.0.0.1');
    await onceWithin(silent, 'listening');
    const adminPort = await freePort();
    srv = await startExposrd({
      config: (port) => baseConfig(port, {
        modules: {
          'api-v1': { port, 'allow-registration': true, 'dns-server': `127.0.0.1:${silent.address().port}` },
          'ingress-http': { port, url: 'http://localhost:8080' },
          admin: { port: adminPort },
        },
      }),
    });
    const alice = await newAccount(srv.port);
    await newTunnel(srv.port, alice, 'slow-names', { ingress: { http: { enabled: true } } });
    probe = await keepAliveConnection(adminPort);
    pending = api(srv.port, 'PATCH', '/v1/tunnel/slow-names', {
      token: alice.token, body: { ingress: { http: { alt_names: ['never.example.net'] } } },
    }).then((res) => ({ res }), (error) => ({ error }));
  });
  after(async () => {
    probe.close();
    silent.close();
    if (stopped === undefined) await srv.stop();
  });

  test('§12.61 /health and /ping → 200 while running', async () => {
    assert.equal((await probe.get('/health')).status, 200);
    assert.equal((await probe.get('/ping')).status, 200);
  });

  test('§12.61 during shutdown /health → 404 while /ping → 200', async () => {
    await new Promise((r) => setTimeout(r, 200));
    stopped = srv.stop();
    await new Promise((r) => setTimeout(r, 300));
    const health = await probe.get('/health');
    assert.equal(health.status, 404);
    assert.equal(health.body, 'Not Found');
    const ping = await probe.get('/ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.body, 'OK');
  });

  test('the API waits for its pending call before it reports drained; exit code 0', async () => {
    const started = Date.now();
    const { code, stderr } = await stopped;
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - started > 1500, 'exit waited for the DNS check');
  });

  test('the pending call is answered before exit', async () => {
    const { res, error } = await pending;
    assert.equal(error, undefined);
    assert.equal(res.status, 400);
    assert.equal(res.json.error, 'TUNNEL_INGRESS_BAD_ALT_NAMES');
  });
});
