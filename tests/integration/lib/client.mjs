// A test tunnel client that does what the exposr 0.10 client does (docs/api.md §2.8,
// §4.10, Appendix A): it drives the public API, then keeps `connections` websockets to
// the server, each wrapped in @exposr/ws-multiplex exactly like the real client, and
// connects every channel the server opens to the target with a fresh TCP socket.
//
//   import { TunnelClient } from './lib/client.mjs';
//   const client = await TunnelClient.create({ port, target: 'http://127.0.0.1:3000' });
//   await client.connect();               // resolves once every slot is open
//   ...                                   // ingress traffic reaches the target
//   await client.stop();                  // closes the websockets, stops reconnecting
//
// Options of create():
//   port, host        the server's API (default host 127.0.0.1)
//   target            target URL; channels connect to its host and port
//   tunnelId          default: a random one; the tunnel is created with PUT
//   account           an existing account id (default: POST /v1/account)
//   connections       websocket slots (default: transport.max_connections, as the client)
//   retryDelay        first back-off after a failed attempt (default 1000 ms, as the client)
//   autoPong          answer the server's pings (default true)
//   ingressHttp       PATCH ingress.http.enabled (default true)
//
// Properties and methods:
//   id, account, token       the tunnel id, the account number and its API token
//   api(method, path, body)  an authorised API call: { status, json, body }
//   tunnel()                 GET /v1/tunnel/<id> (the JSON object)
//   sockets                  the open websocket per slot (undefined while not connected)
//   openCount                how many slots are connected now
//   waitOpen(n)              resolves once n slots are connected
//   connect()                starts the slots; resolves when all are open
//   stop()                   ends every slot and closes the websockets
//   ended(timeout)           resolves once every slot has stopped by itself (after a 1008
//                            close, as the real client's slots do)
//
// Events (slot is the slot index):
//   'open'  (slot, ws)            a websocket was accepted (101)
//   'close' (slot, code, reason)  a websocket closed; 1008 stops the slot for good
//   'error' (slot, err)           a failed attempt; err.code is the server's `error` string
//                                 of a refused upgrade (e.g. PERMISSION_DENIED)
//   'frame' (dir, slot, buf)      every multiplex message, dir 'in' or 'out'
//   'ping'  (slot, payload)       a websocket ping from the server
//   'channel' (slot, sock)        the server opened a channel
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { WebSocketMultiplex } from '@exposr/ws-multiplex';
import { withDeadline } from './deadline.mjs';
import { request } from './http.mjs';

/** An authorised JSON call to the API; resolves with { status, headers, json, body }. */
export function apiCall(port, method, path, { token, body, host = '127.0.0.1', headers = {}, timeout = 5000 } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] = 'application/json';
    h['Content-Length'] = Buffer.byteLength(payload);
  }
  return request(port, { method, path, headers: h, body: payload, host, timeout });
}

/** Registers an account; resolves with { account, token }. */
export async function registerAccount(port, host = '127.0.0.1') {
  const created = await apiCall(port, 'POST', '/v1/account', { host });
  if (created.status !== 201) throw new Error(`POST /v1/account: ${created.status} ${created.body}`);
  const account = created.json.account_id_hr;
  const t = await apiCall(port, 'GET', `/v1/account/${account}/token`, { host });
  if (t.status !== 201) throw new Error(`token: ${t.status} ${t.body}`);
  return { account, token: t.json.token };
}

// The client's connect mutex: slots connect one at a time (§4.10).
class Mutex {
  #locked = false;
  #waiters = [];
  async acquire() {
    if (!this.#locked) { this.#locked = true; return; }
    await new Promise((resolve) => this.#waiters.push(resolve));
  }
  release() {
    const next = this.#waiters.shift();
    if (next) next(); else this.#locked = false;
  }
}

export class TunnelClient extends EventEmitter {
  constructor(opts) {
    super();
    this.port = opts.port;
    this.host = opts.host ?? '127.0.0.1';
    this.target = new URL(opts.target ?? 'http://127.0.0.1:9/');
    this.id = opts.tunnelId ?? `t${crypto.randomBytes(6).toString('hex')}`;
    this.connections = opts.connections;
    this.retryDelay = opts.retryDelay ?? 1000;
    this.autoPong = opts.autoPong ?? true;
    this.ingressHttp = opts.ingressHttp ?? true;
    this.account = opts.account;
    this.sockets = [];
    this.stopped = false;
    this._mutex = new Mutex();
    this._slots = [];
    this._closers = new Set();
    // Tests add listeners freely; an 'error' event without one must not throw.
    this.on('error', () => {});
  }

  static async create(opts) {
    const client = new TunnelClient(opts);
    await client.setup();
    return client;
  }

  api(method, path, body) {
    return apiCall(this.port, method, path, { token: this.token, body, host: this.host });
  }

  async setup() {
    if (this.account) {
      const t = await apiCall(this.port, 'GET', `/v1/account/${this.account}/token`, { host: this.host });
      if (t.status !== 201) throw new Error(`token: ${t.status} ${t.body}`);
      this.token = t.json.token;
    } else {
      Object.assign(this, await registerAccount(this.port, this.host));
    }
    const steps = [
      ['PUT', {}],
      ['PATCH', { target: { url: this.target.href } }],
      ...(this.ingressHttp ? [['PATCH', { ingress: { http: { enabled: true } } }]] : []),
      ['PATCH', { transport: { ws: { enabled: true } } }],
    ];
    for (const [method, body] of steps) {
      const r = await this.api(method, `/v1/tunnel/${this.id}`, body);
      if (r.status !== 200) throw new Error(`${method} /v1/tunnel/${this.id}: ${r.status} ${r.body}`);
    }
  }

  async tunnel() {
    const r = await this.api('GET', `/v1/tunnel/${this.id}`);
    if (r.status !== 200) {
      const err = new Error(`GET tunnel: ${r.status} ${r.body}`);
      err.code = r.json?.error;
      throw err;
    }
    return r.json;
  }

  get openCount() {
    return this.sockets.filter((ws) => ws !== undefined).length;
  }

  async waitOpen(n, timeout = 10000) {
    const deadline = Date.now() + timeout;
    while (this.openCount < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.openCount} of ${n} websockets open`);
      await sleep(20);
    }
  }

  /** Starts the transport slots; resolves once all of them are connected. */
  async connect({ timeout = 10000 } = {}) {
    const info = await this.tunnel();
    if (!info.transport?.ws?.url) throw new Error('No tunnel endpoint available');
    const n = this.connections ?? info.transport.max_connections ?? 1;
    for (let slot = 0; slot < n; slot++) this._slots.push(this._runSlot(slot));
    await this.waitOpen(n, timeout);
  }

  ended(timeout = 10000) {
    return withDeadline(Promise.allSettled(this._slots), timeout, 'the client\'s slots to stop by themselves');
  }

  async stop() {
    this.stopped = true;
    for (const close of this._closers) close();
    // ws gives a close handshake 30 s before it drops the socket.
    await withDeadline(Promise.allSettled(this._slots), 40000, 'the client\'s websockets to close');
  }

  // One transport slot, as Tunnel._connectTransport of the client.
  async _runSlot(slot) {
    let retryDelay = this.retryDelay;
    while (!this.stopped) {
      await this._mutex.acquire();
      let ws, error;
      try {
        const endpoint = (await this.tunnel()).transport?.ws?.url;
        if (!endpoint) throw new Error('No tunnel endpoint available');
        ws = await this._connectOnce(slot, endpoint);
      } catch (e) {
        error = e;
      }
      this._mutex.release();
      if (error) {
        this.emit('error', slot, error);
        if (this.stopped) break;
        await sleep(retryDelay);
        retryDelay = Math.min(retryDelay * (1.1 + Math.random() * 0.05), 5000);
        continue;
      }
      retryDelay = this.retryDelay;
      const [code] = await ws.closed;
      if (code === 1008) break;
    }
  }

  // One websocket, set up as TunnelTransport._connect of the client.
  _connectOnce(slot, endpoint) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(endpoint, { handshakeTimeout: 2000, autoPong: this.autoPong });
      let settled = false;
      const fail = (err) => {
        if (settled) return;
        settled = true;
        ws.terminate();
        reject(err);
      };
      ws.once('unexpected-response', (req, res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          let err;
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            err = new Error(`upgrade refused: ${res.statusCode} ${body.error}`);
            err.code = body.error;
          } catch (e) {
            err = new Error(`upgrade refused: ${res.statusCode} without a JSON body`);
          }
          err.status = res.statusCode;
          fail(err);
        });
      });
      ws.once('error', fail);
      ws.once('open', () => {
        settled = true;
        ws.on('error', () => {}); // the 'close' that follows says what happened
        this._watchFrames(slot, ws);
        const channels = new Set();
        let wsm;
        let closedResolve;
        ws.closed = new Promise((r) => { closedResolve = r; });
        let done = false;
        const finish = async (code, reason) => {
          if (done) return;
          done = true;
          this.sockets[slot] = undefined;
          this._closers.delete(closer);
          for (const t of channels) t.destroy();
          wsm.removeAllListeners();
          await wsm.destroy();
          ws.terminate();
          this.emit('close', slot, code, reason);
          closedResolve([code, reason]);
        };
        // Registered before the multiplexer's own listener, as in the client, so that
        // a close from the server is reported with its code.
        ws.once('close', (code, reason) => finish(code, reason?.toString('utf8') ?? ''));
        wsm = new WebSocketMultiplex(ws);
        wsm.on('connection', (sock) => {
          this.emit('channel', slot, sock);
          const target = net.connect(Number(this.target.port || 80), this.target.hostname, () => {
            target.pipe(sock);
            sock.pipe(target);
          });
          channels.add(target);
          const close = () => {
            target.unpipe(sock);
            sock.unpipe(target);
            target.destroy();
            sock.destroy();
            channels.delete(target);
          };
          target.on('close', close);
          target.on('error', close);
          sock.on('close', close);
          sock.on('error', close);
        });
        // As the client: the multiplexer ending (ping timeout, bad version) ends the socket.
        wsm.on('close', () => finish(1006, 'multiplexer closed'));
        wsm.on('error', (err) => finish(1006, err.message));
        const closer = () => ws.close();
        this._closers.add(closer);
        this.sockets[slot] = ws;
        ws.wsm = wsm;
        this.emit('open', slot, ws);
        resolve(ws);
      });
    });
  }

  _watchFrames(slot, ws) {
    ws.on('message', (data) => this.emit('frame', 'in', slot, Buffer.from(data)));
    ws.on('ping', (payload) => this.emit('ping', slot, payload));
    // ws-multiplex sends a data message as a header fragment plus continuation
    // fragments: reassemble them to report whole messages.
    const send = ws.send.bind(ws);
    let parts = [];
    ws.send = (data, opts, cb) => {
      if (typeof opts === 'function') { cb = opts; opts = {}; }
      parts.push(Buffer.from(data));
      if (opts?.fin !== false) {
        this.emit('frame', 'out', slot, Buffer.concat(parts));
        parts = [];
      }
      return send(data, opts, cb);
    };
  }
}

/**
 * A TunnelClient in a child process, for tests that kill it: resolves with { child, id,
 * token } once all its websockets are open. The caller kills the child.
 */
export async function spawnClient({ port, target, ingressHttp = true }) {
  const script = `
    import { TunnelClient } from './client.mjs';
    const c = await TunnelClient.create({ port: ${port}, target: ${JSON.stringify(target)},
      ingressHttp: ${ingressHttp} });
    await c.connect();
    process.stdout.write(JSON.stringify({ id: c.id, token: c.token }) + '\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.dirname(fileURLToPath(import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const started = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the client process did not connect')), 15000);
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (!out.includes('\n')) return;
        clearTimeout(timer);
        resolve(JSON.parse(out));
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the client process exited ${code}`));
      });
    });
    return { child, ...started };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}

/** Resolves when `emitter` emits `event` with arguments that satisfy `pred`. */
export function waitEvent(emitter, event, pred = () => true, timeout = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`timed out waiting for '${event}'`));
    }, timeout);
    const handler = (...args) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      emitter.off(event, handler);
      resolve(args);
    };
    emitter.on(event, handler);
  });
}

export { once };
