// Hostile public input, as an attacker sends it to the ingress port and the API: request
// smuggling (ambiguous framing), slow and oversized heads, and deep or NUL-holding JSON.
// Each refused request must not reach the tunnel's target at all. (Token reuse and other
// accounts' tunnels are covered by transport_ws.test.mjs 18-19 and api-v1-tunnels §12.11.)
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { rawRequest, startExposrd, waitFor } from './lib/exposrd.mjs';
import { TunnelClient } from './lib/client.mjs';
import { api } from './lib/api.mjs';

const HEAD_TIMEOUT_S = 1;
const MAX_HEADERS = 20;

function config(port) {
  return {
    log: { level: 'warn' },
    http: { bind: '127.0.0.1', 'head-timeout': HEAD_TIMEOUT_S, 'max-head-size': 8192, 'max-headers': MAX_HEADERS },
    modules: {
      'storage-memory': {},
      'api-v1': { port, 'allow-registration': true },
      'transport-ws': { port },
      'ingress-http': { url: `http://localhost:${port}`, port, 'head-timeout': HEAD_TIMEOUT_S },
    },
  };
}

// The target: raw TCP, so that every byte the tunnel passes on is seen as it came. Each
// complete head gets a short 200 answer.
const received = [];
function startTarget() {
  const server = net.createServer((sock) => {
    let text = '';
    let answered = 0;
    sock.on('data', (d) => {
      received.push(d.toString('latin1'));
      text += d.toString('latin1');
      const heads = text.split('\r\n\r\n').length - 1;
      for (; answered < heads; answered++) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let srv;
let target;
let client;
let host;

before(async () => {
  srv = await startExposrd({ config: (port) => config(port) });
  target = await startTarget();
  client = await TunnelClient.create({ port: srv.port, target: `http://127.0.0.1:${target.address().port}/` });
  await client.connect();
  host = `${client.id}.localhost:${srv.port}`;
});

after(async () => {
  await client.stop();
  target.close();
  const r = await srv.stop();
  assert.equal(r.code, 0, `exposrd exit ${r.code} ${r.signal}:\n${r.stderr}`);
});

// Everything the target received since the last call. A request sent after the attack,
// through the same tunnel, is awaited first: bytes of the attack passed on before it
// would have reached the target before it.
let sentinels = 0;
async function targetReceived() {
  const path = `/sentinel-${++sentinels}`;
  const r = await rawRequest(srv.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  assert.match(r, /^HTTP\/1\.1 200 OK\r\n/, `the sentinel request: ${r}`);
  const all = received.splice(0).join('');
  const at = all.indexOf(`GET ${path} `);
  assert.ok(at >= 0, `the sentinel reached the target: ${all}`);
  return all.slice(0, at);
}

// The status lines of the answers on a connection (bodies here are "ok" or JSON).
function statusLines(raw) {
  return raw.match(/HTTP\/1\.1 \d{3} [^\r]*/g) ?? [];
}

// The reproducers, with the tunnel's host name for "t.localhost".
const withHost = (hex) => Buffer.from(hex, 'hex').toString('latin1').replaceAll('t.localhost', host);

test('a pipelined request with "Transfer-Encoding: chunked<TAB>" is 400; only the request before it reaches the target', async () => {
  const raw = await rawRequest(srv.port, withHost('474554202f3120485454502f312e310d0a486f73743a20742e6c6f63616c686f73740d0a0d0a504f5354202f3220485454502f312e310d0a486f73743a20742e6c6f63616c686f73740d0a5472616e736665722d456e636f64696e673a206368756e6b6564090d0a0d0a'));
  assert.deepEqual(statusLines(raw), ['HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request'], raw);
  const got = await targetReceived();
  assert.match(got, /^GET \/1 HTTP\/1\.1\r\n/);
  assert.doesNotMatch(got, /POST/);
});

test('an HTTP/0.9 request line with folded Transfer-Encoding lines is 400 and reaches nothing', async () => {
  const raw = await rawRequest(srv.port, withHost('504f5354202f0a5472616e736665722d456e636f64696e673a6368756e6b65640d0a200d0a0a'));
  assert.deepEqual(statusLines(raw), ['HTTP/1.1 400 Bad Request'], raw);
  assert.equal(await targetReceived(), '');
});

const ambiguous = {
  'an obsolete folded header': (h) => `GET / HTTP/1.1\r\nHost: ${h}\r\nX-Folded: a\r\n b\r\n\r\n`,
  'whitespace after a Transfer-Encoding value': (h) => `POST / HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked \r\n\r\n0\r\n\r\n`,
  'whitespace around a Content-Length value': (h) => `POST / HTTP/1.1\r\nHost: ${h}\r\nContent-Length:\t2 \r\n\r\nab`,
  'a bad chunk terminator': (h) => `POST / HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n`,
  'a space in a header name': (h) => `GET / HTTP/1.1\r\nHost: ${h}\r\nX A: b\r\n\r\n`,
  'Content-Length with Transfer-Encoding': (h) => `POST / HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: ${h}\r\n\r\n`,
  'two Content-Length headers': (h) => `POST / HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 0\r\nContent-Length: 30\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n`,
};

for (const [what, request] of Object.entries(ambiguous)) {
  test(`${what}: 400 before a byte reaches the target, first or later on a connection`, async () => {
    let raw = await rawRequest(srv.port, request(host));
    assert.deepEqual(statusLines(raw), ['HTTP/1.1 400 Bad Request'], raw);
    assert.match(raw, /\r\n\r\n\{"error":"BAD_REQUEST"\}$/);
    assert.equal(await targetReceived(), '');

    raw = await rawRequest(srv.port, `GET /first HTTP/1.1\r\nHost: ${host}\r\n\r\n${request(host)}`);
    assert.deepEqual(statusLines(raw), ['HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request'], raw);
    const got = await targetReceived();
    assert.match(got, /^GET \/first HTTP\/1\.1\r\n/);
    assert.equal(got.split('\r\n\r\n').length - 1, 1, `only the first request reached the target: ${got}`);
  });
}

test('slowloris: a head sent a byte at a time is cut off with 408 at the head timeout', async () => {
  const sock = net.connect(srv.port, '127.0.0.1');
  await once(sock, 'connect');
  let answer = '';
  sock.on('data', (d) => { answer += d.toString('latin1'); });
  const closed = once(sock, 'close');
  const started = Date.now();
  const head = `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Slow: ${'x'.repeat(200)}`;
  for (let i = 0; i < head.length && !sock.destroyed && answer === ''; i++) {
    sock.write(head[i]);
    await new Promise((r) => setTimeout(r, 50));
  }
  await waitFor(() => answer.includes('\r\n\r\n'), { timeout: 10000, what: 'the 408 answer' });
  assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= HEAD_TIMEOUT_S * 1000 - 100 && elapsed < HEAD_TIMEOUT_S * 1000 + 5000, `cut off after ${elapsed} ms`);
  sock.end();
  await closed;
  assert.equal(await targetReceived(), '');
});

test('a head without end is 431 at max-head-size; the rest is not read', async () => {
  const sock = net.connect(srv.port, '127.0.0.1');
  await once(sock, 'connect');
  let answer = '';
  sock.on('data', (d) => { answer += d.toString('latin1'); });
  sock.on('error', () => {}); // a reset once exposrd stops reading is expected
  const closed = once(sock, 'close');
  sock.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n`);
  // Up to 64 MiB of header lines, stopping as soon as the answer is there.
  const line = `X-Pad: ${'y'.repeat(1000)}\r\n`.repeat(64);
  let sent = 0;
  while (sent < 64 * 1024 * 1024 && answer === '' && !sock.destroyed) {
    if (!sock.write(line)) await Promise.race([once(sock, 'drain'), closed]);
    else await new Promise(setImmediate); // let the answer's 'data' event in between writes
    sent += line.length;
  }
  await waitFor(() => answer.includes('\r\n\r\n'), { timeout: 10000, what: 'the 431 answer' });
  assert.match(answer, /^HTTP\/1\.1 431 /);
  // What was sent before the answer arrived: the head limit plus what the two kernel
  // socket buffers on loopback take (several MiB each, more under load).
  assert.ok(sent < 32 * 1024 * 1024, `answered after ${sent} bytes`);
  sock.destroy();
  assert.equal(await targetReceived(), '');
});

// The ingress reads the requests after the first on its side of the takeover, with the
// listener's limits (its own max-head-size is not set here).
test('later requests on a proxied connection keep the listener limits: 431 over http.max-headers or http.max-head-size', async () => {
  const many = Array.from({ length: MAX_HEADERS + 1 }, (_, i) => `X-${i}: v\r\n`).join('');
  const long = `X-Pad: ${'z'.repeat(9000)}\r\n`;
  for (const fields of [many, long]) {
    const raw = await rawRequest(srv.port, `GET /first HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
      `GET /over HTTP/1.1\r\nHost: ${host}\r\n${fields}\r\n`);
    const lines = statusLines(raw);
    assert.equal(lines.length, 2, raw);
    assert.equal(lines[0], 'HTTP/1.1 200 OK');
    assert.match(lines[1], /^HTTP\/1\.1 431 /);
    const got = await targetReceived();
    assert.match(got, /^GET \/first HTTP\/1\.1\r\n/);
    assert.doesNotMatch(got, /\/over/);
  }
});

test('deeply nested JSON is 400; a string holding NUL is 400 and stores nothing', async () => {
  const path = `/v1/tunnel/${client.id}`;
  const before = await api(srv.port, 'GET', path, { token: client.token });
  assert.equal(before.status, 200, before.body);
  for (const body of ['['.repeat(20000) + ']'.repeat(20000), `{"target":${'{"url":'.repeat(5000)}1${'}'.repeat(5000)}}`]) {
    const res = await api(srv.port, 'PATCH', path, { token: client.token, body });
    assert.equal(res.status, 400, res.body);
    assert.equal(res.json.error, 'BAD_INPUT');
  }
  const res = await api(srv.port, 'PATCH', path, { token: client.token, body: '{"target":{"url":"http://a\\u0000b/"}}' });
  assert.equal(res.status, 400, res.body);
  assert.deepEqual(res.json, { error: 'BAD_INPUT', field: 'content-type: a string holds a NUL character at position 26' });
  const after = await api(srv.port, 'GET', path, { token: client.token });
  assert.deepEqual(after.json.target, before.json.target);
});
