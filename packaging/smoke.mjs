// Drives a running exposrd on loopback the way a user would: create an account, get
// its token, create a tunnel, connect a tunnel client and fetch a page through the
// HTTP ingress. Used by packaging/test-deb.sh (the installed package) and
// packaging/test-container.sh (the container image).
//
//   node packaging/smoke.mjs --port P --modules storage-memory,api-v1,... \
//        [--api-host HOST[:PORT]] [--ingress-domain HOST[:PORT]] [--admin-port A]
//
// --port: where exposrd's shared HTTP listener is reachable on 127.0.0.1.
// --modules: the modules exposrd was started with; a step runs only once the modules it
//   needs are there, and is reported as `waiting` until then. A step that can run and
//   does not work fails the run.
// --api-host: the Host header API requests carry (what a client behind a port mapping
//   sends, e.g. host.docker.internal:8080 for the seed's --api-url).
// --ingress-domain: host[:port] of --ingress-http-url; tunnel <id> is <id>.<domain>.
//
// The tunnel client is tests/integration/lib/client.mjs's TunnelClient; where the API
// answers only another Host (the seed's --api-url), or before client.mjs exists, a
// minimal client on @exposr/ws-multiplex (the exposr client's own multiplexer) from
// tests/integration/node_modules.
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { request as httpRequest } from '../tests/integration/lib/http.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const integration = path.join(root, 'tests/integration');

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string' },
    modules: { type: 'string', default: '' },
    'api-host': { type: 'string' },
    'ingress-domain': { type: 'string', default: 'localhost:8080' },
    'admin-port': { type: 'string' },
    label: { type: 'string', default: 'exposrd' },
  },
});
if (!opt.port) throw new Error('--port is required');
const port = Number(opt.port);
const modules = new Set(opt.modules.split(',').map((s) => s.trim()).filter(Boolean));
const apiHost = opt['api-host'] ?? `127.0.0.1:${port}`;
const domain = opt['ingress-domain'];
const has = (...names) => names.every((n) => modules.has(n));

let passed = 0;
let failed = 0;
let waiting = 0;
const log = (s) => process.stdout.write(`${s}\n`);

async function step(name, needs, fn) {
  const missing = needs.filter((n) => !modules.has(n));
  if (missing.length > 0) {
    waiting++;
    log(`waiting - ${name} (needs module ${missing.join(', ')})`);
    return undefined;
  }
  try {
    const r = await fn();
    passed++;
    log(`ok - ${name}${r?.note ? `: ${r.note}` : ''}`);
    return r;
  } catch (e) {
    failed++;
    log(`FAIL - ${name}: ${e.message}`);
    return undefined;
  }
}

// An API or ingress request to 127.0.0.1 with the Host header of the client side.
function request({ method = 'GET', path: p = '/', host, headers = {}, body, toPort = port }) {
  const h = { ...headers };
  if (host) h.host = host;
  if (body !== undefined) h['content-type'] = 'application/json';
  return httpRequest(toPort, { method, path: p, headers: h, body });
}

function expect(res, status, what) {
  if (res.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${res.status} ${res.body.slice(0, 200)}`);
  }
  return res;
}

async function poll(fn, { timeout = 10000, interval = 100, what }) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const r = await fn();
      if (r.ok) return r.value;
      last = r.why;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// The built-in tunnel client: one WebSocket (the URL the API hands out, sent to the
// loopback port), every channel the server opens piped to the target.
async function builtinClient({ tunnelId, auth, targetPort }) {
  const require = createRequire(path.join(integration, 'package.json'));
  const WebSocket = require('ws');
  const { WebSocketMultiplex } = require('@exposr/ws-multiplex');
  const t = expect(await request({ path: `/v1/tunnel/${tunnelId}`, host: apiHost, headers: auth }), 200, 'GET tunnel');
  const url = new URL(t.json?.transport?.ws?.url ?? '');
  const ws = new WebSocket(`ws://127.0.0.1:${port}${url.pathname}${url.search}`, { perMessageDeflate: false, handshakeTimeout: 5000 });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`websocket upgrade answered ${res.statusCode}`)));
  });
  const wsm = new WebSocketMultiplex(ws);
  wsm.on('connection', (sock) => {
    const target = net.connect(targetPort, '127.0.0.1', () => {
      target.pipe(sock);
      sock.pipe(target);
    });
    const close = () => { target.destroy(); sock.destroy(); };
    for (const s of [sock, target]) { s.on('close', close); s.on('error', close); }
  });
  return {
    via: 'the built-in @exposr/ws-multiplex client',
    async close() {
      await wsm.destroy().catch(() => {});
      ws.terminate();
    },
  };
}

// tests/integration/lib/client.mjs's TunnelClient where it exists. It talks to the API
// as 127.0.0.1:<port> and follows the websocket URL the API hands out, so where the API
// only answers another Host (--api-url), the built-in client connects instead.
async function testClient(args) {
  const file = path.join(integration, 'lib/client.mjs');
  if (!fs.existsSync(file)) return builtinClient(args);
  const mod = await import(pathToFileURL(file).href);
  if (typeof mod.TunnelClient?.create !== 'function') {
    throw new Error(`tests/integration/lib/client.mjs exports ${Object.keys(mod).join(', ') || 'nothing'}: no TunnelClient.create()`);
  }
  if (apiHost !== `127.0.0.1:${port}`) {
    log(`note - the API answers only Host ${apiHost}, which TunnelClient does not send: the built-in client connects`);
    return builtinClient(args);
  }
  const client = await mod.TunnelClient.create({
    port,
    host: '127.0.0.1',
    target: `http://127.0.0.1:${args.targetPort}/`,
    tunnelId: args.tunnelId,
    account: args.account,
  });
  await client.connect();
  return { via: `tests/integration/lib/client.mjs (TunnelClient, ${client.openCount} websockets)`, close: () => client.stop() };
}

// A local service to expose, with a body nobody else could answer.
const secret = `hello from the tunnel target ${process.pid}-${Date.now()}`;
const target = http.createServer((req, res) => {
  const body = `${secret} ${req.method} ${req.url}`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
target.listen(0, '127.0.0.1');
await once(target, 'listening');
const targetPort = target.address().port;

log(`# ${opt.label}: 127.0.0.1:${port}, modules: ${[...modules].join(', ') || 'none'}`);

const listens = ['api-v1', 'ingress-http', 'transport-ws'].some((m) => modules.has(m));
if (listens) {
  await step(`answers HTTP on 127.0.0.1:${port}`, [], async () => {
    const r = await request({ path: '/', host: apiHost });
    return { note: `GET / -> ${r.status}` };
  });
} else {
  waiting++;
  log('waiting - answers HTTP (needs module api-v1, ingress-http or transport-ws)');
}

const account = await step('POST /v1/account creates an account', ['api-v1', 'storage-memory'], async () => {
  const r = expect(await request({ method: 'POST', path: '/v1/account', host: apiHost, body: {} }), 201, 'POST /v1/account');
  if (!r.json?.account_id_hr) throw new Error(`no account_id_hr in ${r.body}`);
  return { id: r.json.account_id_hr, note: r.json.account_id_hr };
});

const token = account && await step('GET /v1/account/{id}/token', ['api-v1', 'storage-memory'], async () => {
  const r = expect(await request({ path: `/v1/account/${account.id}/token`, host: apiHost }), 201, 'token');
  if (!r.json?.token) throw new Error(`no token in ${r.body}`);
  return { token: r.json.token };
});

const tunnelId = `pkg-smoke-${process.pid}`;
const auth = token ? { authorization: `Bearer ${token.token}` } : {};
const tunnel = token && await step(`PUT /v1/tunnel/${tunnelId} creates the tunnel`, ['api-v1', 'storage-memory'], async () => {
  const body = { target: { url: `http://127.0.0.1:${targetPort}/` } };
  if (modules.has('ingress-http')) body.ingress = { http: { enabled: true } };
  if (modules.has('transport-ws')) body.transport = { ws: { enabled: true } };
  const r = expect(await request({ method: 'PUT', path: `/v1/tunnel/${tunnelId}`, host: apiHost, headers: auth, body }), 200, 'PUT tunnel');
  if (r.json?.id !== tunnelId) throw new Error(`unexpected tunnel object ${r.body}`);
  if (modules.has('ingress-http')) {
    const want = `http://${tunnelId}.${domain}/`;
    if (r.json.ingress?.http?.url !== want) throw new Error(`ingress url ${r.json.ingress?.http?.url}, want ${want}`);
  }
  return { note: r.json.ingress?.http?.url ?? 'created' };
});

const ingressHost = `${tunnelId}.${domain}`;
if (tunnel) {
  await step('the ingress answers 503 TUNNEL_NOT_CONNECTED before a client connects', ['ingress-http'], async () => {
    const r = expect(await request({ path: '/', host: ingressHost }), 503, 'ingress');
    if (r.json?.error !== 'TUNNEL_NOT_CONNECTED') throw new Error(`body ${r.body}`);
  });
}

if (tunnel) {
  await step('a tunnel client connects and a fetch through the tunnel reaches the target',
    ['ingress-http', 'transport-ws'], async () => {
      const client = await testClient({ tunnelId, token: token.token, account: account.id, auth, targetPort });
      try {
        const body = await poll(async () => {
          const r = await request({ path: '/through/the/tunnel', host: ingressHost });
          return r.status === 200 ? { ok: true, value: r.body } : { ok: false, why: `${r.status} ${r.body.slice(0, 100)}` };
        }, { what: 'a 200 through the tunnel' });
        if (!body.startsWith(secret) || !body.includes('GET /through/the/tunnel')) throw new Error(`wrong body: ${body}`);
        return { note: `GET http://${ingressHost}/through/the/tunnel -> 200 "${body}" via ${client.via}` };
      } finally {
        await client.close();
      }
    });
}

if (opt['admin-port']) {
  await step(`GET /ping on the admin port ${opt['admin-port']}`, ['admin'], async () => {
    await poll(async () => {
      const r = await request({ path: '/ping', toPort: Number(opt['admin-port']) });
      return { ok: r.status === 200, why: `${r.status}` };
    }, { what: '/ping 200' });
  });
}

target.close();
log(`# ${opt.label}: ${waiting} step(s) waiting for modules that are not built yet`);
log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
