// Two exposrd nodes writing the same records on one Redis (docs/storage.md §8.1): every
// read-modify-write holds lock:<key> in Redis, so concurrent updates from two nodes
// never lose one another, a connection token is accepted once across the nodes, and a
// lock that cannot be taken is answered 503 with nothing written.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { apiCall, registerAccount } from './lib/client.mjs';
import { startExposrd } from './lib/exposrd.mjs';
import { connectRaw } from './lib/rawmux.mjs';
import { redisCommand, startRedis } from './lib/redis.mjs';

const ROUNDS = 200;
const TOKEN_ROUNDS = 20;

let redis;
const nodes = [];

function nodeConfig(port) {
  return {
    log: { level: 'warn' },
    http: { bind: '127.0.0.1' },
    modules: {
      'storage-redis': { url: redis.url },
      'api-v1': { port, 'allow-registration': true },
      'transport-ws': { port },
    },
  };
}

before(async () => {
  redis = await startRedis();
  for (let i = 0; i < 2; i++) nodes.push(await startExposrd({ config: nodeConfig }));
});

after(async () => {
  for (const n of nodes) {
    const r = await n.stop();
    assert.equal(r.code, 0, `exposrd exit ${r.code} ${r.signal}:\n${r.stderr}`);
  }
  if (redis) await redis.remove();
});

async function newTunnel(id) {
  const { token } = await registerAccount(nodes[0].port);
  // Longer than the lock's wait (25 retries 200 ms apart).
  const call = (node, method, body) =>
    apiCall(nodes[node].port, method, `/v1/tunnel/${id}`, { token, body, timeout: 15000 });
  const r = await call(0, 'PUT', {});
  assert.equal(r.status, 200, `PUT: ${r.status} ${r.body}`);
  return call;
}

test(`${ROUNDS} rounds of updates from two nodes at once lose nothing`, { timeout: 120000 }, async () => {
  const call = await newTunnel('raced-tunnel');
  const started = Date.now();
  for (let i = 0; i < ROUNDS; i++) {
    const url = `http://round-${i}.example/`;
    const enabled = i % 2 === 0;
    const [a, b] = await Promise.all([
      call(0, 'PATCH', { target: { url } }),
      call(1, 'PATCH', { transport: { ws: { enabled } } }),
    ]);
    assert.equal(a.status, 200, `round ${i}, node A: ${a.status} ${a.body}`);
    assert.equal(b.status, 200, `round ${i}, node B: ${b.status} ${b.body}`);
    for (const node of [0, 1]) {
      const r = await call(node, 'GET');
      assert.equal(r.status, 200);
      assert.deepEqual([r.json.target.url, r.json.transport.ws.enabled], [url, enabled],
        `round ${i}: the record read on node ${node} lost an update`);
    }
  }
  console.log(`# ${ROUNDS} rounds in ${Date.now() - started} ms`);
});

test(`a connection token raced at two nodes is accepted once (${TOKEN_ROUNDS} rounds)`, { timeout: 60000 }, async () => {
  const call = await newTunnel('token-tunnel');
  const r = await call(0, 'PATCH', { transport: { ws: { enabled: true } } });
  assert.equal(r.status, 200, `${r.status} ${r.body}`);
  for (let i = 0; i < TOKEN_ROUNDS; i++) {
    const info = await call(i % 2, 'GET');
    const url = new URL(info.json.transport.ws.url);
    const urls = nodes.map((n) => { url.port = String(n.port); return url.href; });
    const results = await Promise.allSettled(urls.map((u) => connectRaw(u)));
    const accepted = results.filter((x) => x.status === 'fulfilled');
    const refused = results.filter((x) => x.status === 'rejected');
    for (const x of accepted) x.value.ws.terminate();
    assert.equal(accepted.length, 1, `round ${i}: ${accepted.length} of 2 connections with one token were accepted`);
    assert.equal(refused[0].reason.status, 401, `round ${i}: ${refused[0].reason.message}`);
    assert.equal(refused[0].reason.json?.error, 'PERMISSION_DENIED');
  }
});

test('a lock another node holds past the wait is answered 503, and nothing is written', { timeout: 30000 }, async () => {
  const call = await newTunnel('locked-tunnel');
  assert.equal((await call(0, 'PATCH', { target: { url: 'http://before.example/' } })).status, 200);
  // As another node holding the tunnel's lock (15 s, longer than the 5 s of retries).
  assert.equal(await redisCommand(redis.port, ['SET', 'lock:locked-tunnel', 'elsewhere', 'PX', '15000']), 'OK');
  const t0 = Date.now();
  const r = await call(1, 'PATCH', { target: { url: 'http://lost.example/' } });
  const waited = Date.now() - t0;
  assert.equal(r.status, 503, `${r.status} ${r.body}`);
  assert.deepEqual(r.json, { error: 'UNKNOWN_ERROR', details: 'storage_unavailable' });
  assert.ok(waited >= 4000 && waited < 10000, `answered after ${waited} ms, not after the lock's ~5 s of retries`);
  await redisCommand(redis.port, ['DEL', 'lock:locked-tunnel']);
  const g = await call(0, 'GET');
  assert.equal(g.json.target.url, 'http://before.example/');
  const ok = await call(1, 'PATCH', { target: { url: 'http://after.example/' } });
  assert.equal(ok.status, 200, `${ok.status} ${ok.body}`);
  assert.equal(ok.json.target.url, 'http://after.example/');
});
