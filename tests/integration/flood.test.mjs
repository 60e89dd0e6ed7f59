// A tunnel client that floods exposrd with messages that each force a reply (websocket
// pings, multiplex OPENs, DATA/ACK/PAUSE for unknown channels) and never reads the
// replies must not grow exposrd's memory: exposrd stops reading it above the output's
// high mark and closes it, while another tunnel keeps serving. Raw sockets, so that the
// receive side is really never drained.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, request, startExposrd } from './lib/exposrd.mjs';
import { TunnelClient } from './lib/client.mjs';
import { floodSocket, rssWatch } from './lib/flood.mjs';
import { T, encode } from './lib/rawmux.mjs';

const FLOOD_MS = 30000;
const SAMPLE_MS = 2000;
// ASan holds freed blocks in a quarantine (256 MB by default) and maps shadow memory, so
// an ASan build's RSS is not comparable with 32 MB: there exposrd runs with a 16 MB
// quarantine and the growth over its RSS at the start is bounded instead, far below what
// an unbounded queue reaches in 30 s (over a gigabyte in a normal build).
const ASAN_QUARANTINE = 'quarantine_size_mb=16';
const ASAN_GROWTH_LIMIT_KB = 128 * 1024;
const PIPELINE_MS = 15000;
const BIG = Buffer.alloc(64 * 1024, 'b');

let srv;
let adminPort;
let target;

before(async () => {
  adminPort = await freePort();
  srv = await startExposrd({
    // Ignored by a build without ASan.
    env: { ASAN_OPTIONS: [process.env.ASAN_OPTIONS, ASAN_QUARANTINE].filter(Boolean).join(':') },
    config: (port) => ({
      log: { level: 'warn' },
      http: { bind: '127.0.0.1' },
      modules: {
        'storage-memory': {},
        'api-v1': { port, 'allow-registration': true },
        'transport-ws': { port },
        'ingress-http': { url: `http://localhost:${port}`, port },
        admin: { port: adminPort },
      },
    }),
  });
  target = http.createServer((req, res) => res.end(req.url === '/big' ? BIG : 'served'));
  await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  target.close();
  const r = await srv.stop();
  assert.equal(r.code, 0, `exposrd exit ${r.code} ${r.signal}:\n${r.stderr}`);
});

// A client frame: masked, unfragmented, payload under 126 bytes.
function frame(opcode, payload) {
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] ^= mask[i % 4];
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | masked.length]), mask, masked]);
}

// 64 KiB of frames that each force a reply. Pings carry the most a ping may (125 bytes,
// echoed in the pong), and unsolicited pongs keep exposrd's keep-alive from ending the
// connection on its own.
const FLOODS = {
  pings: () => {
    const ping = frame(0x9, Buffer.alloc(125, 'p'));
    const pong = frame(0xa, Buffer.alloc(0));
    return Buffer.concat(Array(Math.ceil(65536 / (ping.length + pong.length))).fill(Buffer.concat([ping, pong])));
  },
  // Only the server opens channels: each OPEN is answered CLOSE ERR_WSM_OPEN_CHANNEL_REJECTED.
  opens: () => {
    const open = frame(0x2, encode(T.OPEN, 0, 7));
    return Buffer.concat(Array(Math.ceil(65536 / open.length)).fill(open));
  },
  // DATA, ACK and PAUSE for channels that are not open: each answered CLOSE ERR_WSM_CHANNEL_NOT_OPEN.
  unknownChannels: () => {
    const mix = Buffer.concat([T.DATA, T.ACK, T.PAUSE].map((type) => frame(0x2, encode(type, 99, 7, type === T.DATA ? 'x' : ''))));
    return Buffer.concat(Array(Math.ceil(65536 / mix.length)).fill(mix));
  },
};

// Opens the tunnel's websocket by hand; resolves with the socket, never read again.
function rawUpgrade(wsUrl) {
  const url = new URL(wsUrl);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(url.port), '127.0.0.1');
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('no 101 within 5 s')); }, 5000);
    let head = '';
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('data', function onData(d) {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      sock.off('data', onData);
      sock.pause();
      if (!head.startsWith('HTTP/1.1 101')) {
        sock.destroy();
        reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        return;
      }
      resolve(sock);
    });
    sock.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n\r\n`);
  });
}

// Floods through fresh connections of `client`'s tunnel until `deadline`; returns how
// long each connection lasted before exposrd closed it (null: still open at the end).
async function flood(client, chunk, deadline) {
  const lifetimes = [];
  while (Date.now() < deadline) {
    const sock = await rawUpgrade((await client.tunnel()).transport.ws.url);
    const opened = Date.now();
    const closed = await floodSocket(sock, chunk, deadline);
    lifetimes.push(closed ? Date.now() - opened : null);
    sock.destroy();
  }
  return lifetimes;
}

test('clients flooding pings, OPENs or messages for unknown channels without reading are closed; memory stays bounded and another tunnel serves', { timeout: FLOOD_MS + 60000 }, async () => {
  const targetUrl = `http://127.0.0.1:${target.address().port}/`;
  const good = await TunnelClient.create({ port: srv.port, target: targetUrl, retryDelay: 200 });
  const flooders = await Promise.all(Object.keys(FLOODS).map(() =>
    TunnelClient.create({ port: srv.port, target: targetUrl })));
  await good.connect();
  try {
    const rss = rssWatch(srv.proc.pid, { asanGrowthKb: ASAN_GROWTH_LIMIT_KB });
    const deadline = Date.now() + FLOOD_MS;
    const floods = Promise.all(Object.values(FLOODS).map((make, i) => flood(flooders[i], make(), deadline)));
    let served = 0;
    while (Date.now() < deadline) {
      const t0 = Date.now();
      const r = await request(srv.port, { headers: { Host: `${good.id}.localhost:${srv.port}` }, timeout: 5000 });
      assert.equal(r.status, 200, `the other tunnel answered ${r.status} ${r.body} during the flood`);
      assert.equal(r.body, 'served');
      served++;
      rss.check();
      await sleep(Math.max(0, SAMPLE_MS - (Date.now() - t0)));
    }
    const lifetimes = await floods;
    console.log(`RSS (elapsed:kB${rss.asan ? ', ASan' : ''}): ${rss.curve.join(' ')}`);
    console.log(`flooding connections lasted (ms): ${JSON.stringify(lifetimes)}`);
    assert.ok(served >= FLOOD_MS / SAMPLE_MS / 2, `only ${served} requests served in ${FLOOD_MS} ms`);
    for (const [i, name] of Object.keys(FLOODS).entries()) {
      assert.ok(lifetimes[i].length > 0 && lifetimes[i][0] !== null,
        `the ${name} flood's first connection was not closed within ${FLOOD_MS} ms`);
    }
    for (const f of flooders) {
      assert.match(srv.stderr(), new RegExp(`tunnel ${f.id} from 127\\.0\\.0\\.1: the client does not read its replies`),
        'a log line names the tunnel and the reason');
    }
  } finally {
    await good.stop();
  }
});

// HTTP clients that pipeline requests and never read the responses: the API, the admin
// interface and a tunnel's public side each answer a request only when the answers
// before it are out (or, on the ingress, hold back the tunnel above the high mark).
test('pipelining HTTP clients that never read keep memory bounded; the same ports still serve', { timeout: PIPELINE_MS + 30000 }, async () => {
  const targetUrl = `http://127.0.0.1:${target.address().port}/`;
  const tunnel = await TunnelClient.create({ port: srv.port, target: targetUrl, retryDelay: 200 });
  await tunnel.connect();
  try {
    const ingressHost = `${tunnel.id}.localhost:${srv.port}`;
    const pipelines = [
      { port: srv.port, head: `GET /v1/no-such-path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n` },
      { port: adminPort, head: 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' },
      { port: srv.port, head: `GET /big HTTP/1.1\r\nHost: ${ingressHost}\r\n\r\n` },
    ];
    const rss = rssWatch(srv.proc.pid, { asanGrowthKb: ASAN_GROWTH_LIMIT_KB });
    const deadline = Date.now() + PIPELINE_MS;
    const floods = pipelines.map(async ({ port, head }) => {
      const sock = net.connect(port, '127.0.0.1');
      await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
      sock.pause();
      return floodSocket(sock, Buffer.from(head.repeat(Math.ceil(65536 / head.length))), deadline)
        .finally(() => sock.destroy());
    });
    const checks = [
      [srv.port, { path: '/v1/no-such-path' }, 404],
      [adminPort, { path: '/ping' }, 200],
      [srv.port, { headers: { Host: ingressHost } }, 200],
    ];
    while (Date.now() < deadline) {
      const t0 = Date.now();
      for (const [port, opts, status] of checks) {
        const r = await request(port, { ...opts, timeout: 5000 });
        assert.equal(r.status, status, `port ${port} ${JSON.stringify(opts)}: ${r.status} ${r.body} during the pipelining`);
      }
      rss.check();
      await sleep(Math.max(0, SAMPLE_MS - (Date.now() - t0)));
    }
    await Promise.all(floods);
    console.log(`RSS (elapsed:kB${rss.asan ? ', ASan' : ''}): ${rss.curve.join(' ')}`);
  } finally {
    await tunnel.stop();
  }
});
