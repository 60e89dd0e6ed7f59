// A test driver that behaves as the 2021 exposr clients 0.1.0, 0.2.x, 0.3.0 and 0.4.0
// (docs/legacy-clients.md §14.2, §14.7): their API requests, byte for byte and in their order, and
// their websocket transport, multiplex v1 (§4.8) with the old client's quirks.
//
//   import { LegacyClient } from './lib/legacy-client.mjs';
//   const c = new LegacyClient({ server: `http://127.0.0.1:${port}/`, version: '0.4.0' });
//   await c.tunnel('http://127.0.0.1:3000', 'demo-tunnel');   // `exposr -s S tunnel URL ID`,
//                                                              // resolves once connected
//   ...                                                        // traffic reaches the target
//   await c.stop();                                            // SIGINT: close, then DELETE
//
// The other commands: connectTunnel(id, url), createAccount(), createTunnel(id),
// configureTunnel(id, option, value), disconnectTunnel(id), deleteTunnel(id), tunnelInfo(id).
//
// Options: server (the -s URL), version ('0.1.0', '0.2.0', '0.2.2', '0.3.0', '0.4.0'),
// account (-a), ingress (the 0.2.1+ --ingress values, default ['http']), pingInterval
// (30000 as the client; tests make it shorter), rewriteEndpoint (url => url, lets a test
// spoil the websocket URL the client is about to use).
//
// What a test reads:
//   requests      every API request: { method, path, body (text), status, json }
//   output        the lines the client prints (e.g. 'Permission denied')
//   upgrades      every websocket attempt: { url, status (101 or the refusal's), headers }
//   frames        every multiplex message: { dir: 'in'|'out', type, channel, raw }
//   pongs         pongs received for the client's own pings
//   ws            the open websocket (undefined while not connected)
//   crashed       the error a real client would have died of (C7), else undefined
//   exitCode      set when the client ended by itself (0: silent exit, 1: fatal error)
// Events: 'connected' (ws), 'closed' (code), 'crash' (err), 'exit' (code).
import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { T1 as V1, encodeV1 } from './rawmux.mjs';

export { V1 };

const V1_NAMES = ['?', 'DATA', 'CON', 'CONACK', 'FIN', 'PAUSE', 'RESUME'];

// The client's messages for the server's error codes (fatal ones stop connect-tunnel).
const MESSAGES = {
  AUTH_NO_TOKEN: 'Access token missing',
  PERMISSION_DENIED: 'Permission denied',
  TUNNEL_NOT_FOUND: 'Tunnel not found',
  TUNNEL_ALREADY_CONNECTED: 'Tunnel already connected',
  BAD_INPUT: 'Bad input',
};
const CONNECT_FATAL = new Set(['AUTH_NO_TOKEN', 'TUNNEL_NOT_FOUND', 'TUNNEL_ALREADY_CONNECTED',
  'PERMISSION_DENIED', 'NO_ENDPOINT', 'NO_UPSTREAM']);

class ClientError extends Error {
  constructor(code, message) {
    super(message ?? MESSAGES[code] ?? code);
    this.code = code;
  }
}

export class LegacyClient extends EventEmitter {
  constructor({ server, version = '0.4.0', account, ingress = ['http'], pingInterval = 30000,
    rewriteEndpoint = (url) => url } = {}) {
    super();
    this.server = server;
    this.version = version;
    this.account = account;
    this.ingress = ingress;
    this.pingInterval = pingInterval;
    this.rewriteEndpoint = rewriteEndpoint;
    this.requests = [];
    this.output = [];
    this.upgrades = [];
    this.frames = [];
    this.pongs = 0;
    this.stopped = false;
    this.on('error', () => {});
  }

  get v01() {
    return this.version.startsWith('0.1.');
  }

  _print(line) {
    this.output.push(line);
  }

  // --- The API, as axios 0.21 sends it -------------------------------------------------

  /** One request; resolves with { status, json }. Network errors reject. */
  async call(method, path, body) {
    const url = new URL(path, this.server);
    const headers = {
      Accept: 'application/json, text/plain, */*',
      'User-Agent': `exposr-cli/${this.version}`,
    };
    if (path.startsWith('v1/tunnel/') && this.token) headers.Authorization = `Bearer ${this.token}`;
    let payload;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json;charset=utf-8';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const res = await new Promise((resolve, reject) => {
      const req = http.request(url, { method, headers, agent: false, timeout: 5000 }, (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
        r.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timeout`)));
      req.on('error', reject);
      req.end(payload);
    });
    let json;
    try { json = JSON.parse(res.text); } catch { json = undefined; }
    this.requests.push({ method, path: url.pathname, body: payload, status: res.status, json });
    return { status: res.status, json };
  }

  /** A request that must succeed (status <= max); else a ClientError with the server's code. */
  async _ok(method, path, body, max = 201) {
    const r = await this.call(method, path, body);
    if (r.status <= max) return r.json;
    const code = typeof r.json?.error === 'string' ? r.json.error : 'UNKNOWN_ERROR';
    throw new ClientError(code, code === 'BAD_INPUT' ? `Bad input: ${r.json.field ?? r.json.details}` : undefined);
  }

  async _token() {
    this.token = (await this._ok('GET', `v1/account/${this.account}/token`, undefined, 204)).token;
  }

  // --- Commands ---------------------------------------------------------------------------

  async createAccount() {
    const r = await this.call('POST', 'v1/account', {});
    if (r.status < 200 || r.status > 299) throw new ClientError('REGISTRATION', 'Failed to create account');
    this.account = r.json.account_id;
    this._print(`Created account ${r.json.account_id_hr}`);
    return r.json;
  }

  async createTunnel(id) {
    await this._token();
    const body = this.v01 ? { ingress: { http: { enabled: false } } } : {};
    const t = await this._ok('PUT', `v1/tunnel/${id}`, body);
    this._print(`Created tunnel ${t.id}`);
    return t;
  }

  async deleteTunnel(id) {
    await this._token();
    await this._ok('DELETE', `v1/tunnel/${id}`, undefined, 204);
    this._print(`Deleted tunnel ${id}`);
  }

  async disconnectTunnel(id) {
    await this._token();
    const r = await this._ok('POST', `v1/tunnel/${id}/disconnect`, {}, 204);
    if (r?.result !== true) throw new ClientError('NOT_DISCONNECTED', `Could not disconnect tunnel ${id}`);
    this._print(`Disconnected tunnel ${id}`);
  }

  /** 0.2+: one single-key PATCH. */
  async configureTunnel(id, option, value) {
    const bool = ['true', '1', 'on', 'yes', 'enable', 'enabled'].includes(String(value));
    const bodies = {
      'upstream-url': { upstream: { url: value } },
      'transport-ws': { endpoints: { ws: { enabled: bool } } },
      'transport-ssh': { endpoints: { ssh: { enabled: bool } } },
      'ingress-http': { ingress: { http: { enabled: bool } } },
      'ingress-sni': { ingress: { sni: { enabled: bool } } },
      'ingress-http-altnames': { ingress: { http: { alt_names: String(value).split(',') } } },
    };
    await this._token();
    return this._ok('PATCH', `v1/tunnel/${id}`, bodies[option]);
  }

  /** 0.2+ tunnel-info: the lines it prints; throws where the client would crash (Q4). */
  async tunnelInfo(id) {
    await this._token();
    const t = await this._ok('GET', `v1/tunnel/${id}`, undefined);
    const lines = [`Tunnel: ${t.id}`, `Upstream target: ${t.upstream.url}`];
    for (const k of Object.keys(t.endpoints)) {
      lines.push(`Transport endpoint ${k}: ${t.endpoints[k].enabled ? t.endpoints[k].url : 'disabled'}`);
    }
    for (const k of Object.keys(t.ingress)) {
      const ing = t.ingress[k];
      lines.push(`Ingress ${k}: ${ing.enabled ? ing.url : 'disabled'}`);
      if (this.version === '0.4.0' && ing.alt_names !== undefined) {
        lines.push(`  urls: ${(ing.urls ?? []).join(', ')}`, `  altnames: ${ing.alt_names.join(', ')}`);
      }
    }
    const c = t.connection;
    lines.push(`Connected: ${c.connected}`, `Peer: ${c.peer}`, `Connected at: ${c.connected_at}`,
      `Disconnected at: ${c.disconnected_at}`, `Alive at: ${c.alive_at}`, `Created at: ${t.created_at}`);
    for (const l of lines) this._print(l);
    return lines;
  }

  // --- The tunnel and connect-tunnel commands ---------------------------------------------

  // The single merged PATCH of §14.2 for `url`.
  _patchBody(url) {
    const href = url !== undefined ? new URL(url).href : undefined;
    const httpish = href !== undefined && /^https?:$/.test(new URL(href).protocol);
    if (this.v01) return { ingress: { http: { enabled: httpish } }, upstream: { url: href } };
    const body = {};
    if (href !== undefined) body.upstream = { url: href };
    body.endpoints = { ws: { enabled: true } };
    if (this.version === '0.2.0') {
      if (httpish) body.ingress = { http: { enabled: true } };
      return body;
    }
    const kinds = this.version === '0.2.1' || this.version === '0.2.2'
      ? this.ingress.filter((k) => k === 'http') : this.ingress;
    body.ingress = Object.fromEntries(kinds.map((k) => [k, { enabled: true }]));
    return body;
  }

  /**
   * `exposr -s S [-a ACCT] tunnel <url> <id>`: resolves once the first websocket is open;
   * rejects if the client ends before that. It then keeps running until stop().
   */
  async tunnel(url, id, { timeout = 10000 } = {}) {
    this.id = id;
    this.url = url;
    this.command = 'tunnel';
    const connected = this._firstConnection(timeout);
    this._loop = this._tunnelLoop();
    return connected;
  }

  // Resolves on the first open websocket; rejects when the client ends first or has not
  // connected within `timeout` ms (then it is stopped, as a user would give up).
  _firstConnection(timeout) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stopped = true;
        this.ws?.terminate();
        reject(new Error(`the client did not connect within ${timeout} ms; it sent:\n`
          + this.requests.map((r) => `${r.method} ${r.path} ${r.body ?? ''} -> ${r.status} ${JSON.stringify(r.json)}`).join('\n')
          + `\nand printed: ${this.output.join(' / ')}`));
      }, timeout);
      const settle = (fn) => (arg) => {
        clearTimeout(timer);
        fn(arg);
      };
      this.once('connected', settle(resolve));
      this.once('exit', settle((code) => reject(Object.assign(
        new Error(`the client exited ${code}: ${this.output.join(' / ')}`), { exitCode: code }))));
      this.once('crash', settle(reject));
    });
  }

  async _tunnelLoop() {
    try {
      if (this.account === undefined) {
        const r = await this._ok('POST', 'v1/account', {}, 299);
        this.account = r.account_id;
        this._print(`Created account ${r.account_id_hr}`);
      }
      let setUp = false;
      while (!this.stopped) {
        try {
          if (!setUp) {
            await this._setUp();
            setUp = true;
          } else {
            // Reconnecting after a connection: a fresh token and tunnel, no PUT/PATCH.
            await this._token();
            this._cached = await this._ok('GET', `v1/tunnel/${this.id}`, undefined);
          }
          await this._connect();
          if (this.stopped) break;
          continue; // 0 ms after an established connection
        } catch (err) {
          if (this.stopped || this.crashed || this.exitCode !== undefined) return;
          this._print(err.message);
          if (err.code === 'PERMISSION_DENIED' || err.code === 'BAD_INPUT') {
            await this._deleteOnExit();
            this._exit(1);
            return;
          }
          if (err.code === 'TUNNEL_ALREADY_CONNECTED') {
            await this.call('POST', `v1/tunnel/${this.id}/disconnect`, {});
          } else {
            await sleep(1000);
          }
          setUp = false; // redo PUT, PATCH and connect
        }
      }
    } catch (err) {
      // Registration or the first token failed: the client gives up.
      this._print(err.message);
      this._exit(1);
    }
  }

  async _setUp() {
    await this._token();
    const putBody = this.v01 ? { ingress: { http: { enabled: /^https?:$/.test(new URL(this.url).protocol) } } } : {};
    this._cached = await this._ok('PUT', `v1/tunnel/${this.id}`, putBody);
    // Q1: a failed PATCH is ignored; the cached PUT response is used then.
    const r = await this.call('PATCH', `v1/tunnel/${this.id}`, this._patchBody(this.url));
    if (r.status <= 201) this._cached = r.json;
  }

  /**
   * `exposr -s S -a ACCT connect-tunnel <id> [url]`: resolves once connected; a fatal
   * error ends the client (exit 1) after printing its message.
   */
  async connectTunnel(id, url, { timeout = 10000 } = {}) {
    this.id = id;
    this.url = url;
    this.command = 'connect-tunnel';
    const connected = this._firstConnection(timeout);
    this._loop = (async () => {
      let first = true;
      while (!this.stopped) {
        try {
          await this._token();
          if (first && this.version !== '0.2.0') {
            this._cached = await this._ok('PATCH', `v1/tunnel/${id}`, this._patchBody(url));
          } else {
            this._cached = await this._ok('GET', `v1/tunnel/${id}`, undefined);
          }
          first = false;
          await this._connect();
        } catch (err) {
          if (this.stopped || this.crashed || this.exitCode !== undefined) return;
          this._print(err.message);
          if (CONNECT_FATAL.has(err.code)) {
            this._exit(1);
            return;
          }
          await sleep(1000);
        }
      }
    })();
    return connected;
  }

  _exit(code) {
    if (this.exitCode !== undefined) return;
    this.exitCode = code;
    this.stopped = true;
    this.emit('exit', code);
  }

  _crash(err) {
    if (this.crashed) return;
    this.crashed = err;
    this.stopped = true;
    this.emit('crash', err);
  }

  async _deleteOnExit() {
    try {
      await this.call('DELETE', `v1/tunnel/${this.id}`);
    } catch { /* the process exits anyway */ }
  }

  /** SIGINT/SIGTERM: close the websocket without a status code, then DELETE (§14.2 step 7). */
  async stop() {
    const wasRunning = !this.stopped;
    this.stopped = true;
    if (this.ws) {
      const ws = this.ws;
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.close();
      await Promise.race([closed, sleep(2000)]);
      ws.terminate();
    }
    if (wasRunning && this.command === 'tunnel' && this.id) await this._deleteOnExit();
    await this._loop;
  }

  // --- The websocket ----------------------------------------------------------------------

  /** One connection: resolves when it closes; rejects if it cannot be opened. */
  async _connect() {
    const endpoint = this._cached?.endpoints?.ws?.url;
    if (!endpoint) throw new ClientError('NO_ENDPOINT', 'No tunnel endpoint available');
    const upstream = this.v01 ? this.url : this._cached?.upstream?.url;
    if (!upstream) throw new ClientError('NO_UPSTREAM', 'No upstream target configured');
    const ws = await this._open(this.rewriteEndpoint(endpoint));
    if (this.stopped) {
      ws.terminate();
      return;
    }
    this.ws = ws;
    const session = new V1Session(this, ws, new URL(upstream));
    this.emit('connected', ws);
    const code = await session.closed;
    this.ws = undefined;
    this.emit('closed', code);
  }

  _open(url) {
    return new Promise((resolve, reject) => {
      const attempt = { url };
      this.upgrades.push(attempt);
      const ws = new WebSocket(url, { handshakeTimeout: 2000 });
      let settled = false;
      const fail = (err) => {
        if (settled) return;
        settled = true;
        ws.terminate();
        reject(err);
      };
      ws.once('upgrade', (res) => {
        attempt.status = res.statusCode;
        attempt.headers = res.headers;
      });
      // As the old clients: each body chunk is parsed on its own (C7).
      ws.once('unexpected-response', (req, res) => {
        attempt.status = res.statusCode;
        attempt.headers = res.headers;
        attempt.chunks = [];
        res.on('data', (chunk) => {
          attempt.chunks.push(chunk.toString('utf8'));
          if (settled) return;
          let body;
          try {
            body = JSON.parse(chunk);
          } catch (e) {
            settled = true;
            ws.terminate();
            this._crash(Object.assign(new SyntaxError(`unexpected response body: ${e.message}`), { status: res.statusCode }));
            return;
          }
          if (typeof body?.error !== 'string') {
            settled = true;
            ws.terminate();
            this._crash(new ReferenceError(`refusal ${res.statusCode} without a string error`));
            return;
          }
          fail(new ClientError(body.error));
        });
        // No body at all: the old client's process just ends, skipping the DELETE.
        res.on('end', () => {
          if (settled) return;
          settled = true;
          ws.terminate();
          this._exit(0);
        });
      });
      ws.once('error', (err) => fail(err));
      ws.once('open', () => {
        settled = true;
        resolve(ws);
      });
    });
  }
}

// The client side of multiplex v1 on one websocket: it answers CON with CONACK at once,
// connects a fresh TCP socket to the upstream per channel, ignores the server's FIN,
// sends FIN twice when its target closes, pings every pingInterval.
class V1Session {
  constructor(client, ws, upstream) {
    this.client = client;
    this.ws = ws;
    this.host = upstream.hostname;
    this.port = Number(upstream.port || (upstream.protocol === 'https:' ? 443 : 80));
    this.channels = new Map();
    ws.on('message', (data) => this._message(Buffer.from(data)));
    ws.on('error', () => {});
    ws.on('pong', () => {
      this.ponged = true;
      client.pongs++;
    });
    this.ponged = true;
    this.pinger = setInterval(() => {
      if (!this.ponged) {
        ws.terminate();
        return;
      }
      this.ponged = false;
      ws.ping();
    }, client.pingInterval);
    this.closed = new Promise((resolve) => ws.once('close', (code) => {
      clearInterval(this.pinger);
      for (const ch of this.channels.values()) ch.sock.destroy();
      this.channels.clear();
      resolve(code);
    }));
  }

  _record(dir, buf) {
    this.client.frames.push({ dir, version: buf.readUInt16BE(0), type: buf.readUInt16BE(2),
      name: V1_NAMES[buf.readUInt16BE(2)] ?? '?', channel: buf.readUInt32BE(4), raw: buf, at: Date.now() });
  }

  _send(type, channel, payload) {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const msg = encodeV1(type, channel, payload);
    this._record('out', msg);
    if (payload === undefined || payload.length === 0) {
      this.ws.send(msg, { binary: true });
      return;
    }
    // A data message as a header frame and a continuation frame, as the client sends it.
    this.ws.send(msg.subarray(0, 12), { binary: true, fin: false });
    this.ws.send(payload, { binary: true, fin: true });
  }

  _message(buf) {
    if (buf.length < 12) return;
    this._record('in', buf);
    const type = buf.readUInt16BE(2);
    const channel = buf.readUInt32BE(4);
    const payload = buf.subarray(12);
    const ch = this.channels.get(channel);
    switch (type) {
      case V1.CON:
        if (ch) return; // a CON for an open channel is ignored
        this._accept(channel);
        return;
      case V1.DATA:
        if (!ch) {
          this._send(V1.FIN, channel);
          return;
        }
        if (!ch.sock.write(payload) && !ch.paused) {
          ch.paused = true;
          this._send(V1.PAUSE, channel);
          ch.sock.once('drain', () => {
            ch.paused = false;
            this._send(V1.RESUME, channel);
          });
        }
        return;
      case V1.PAUSE:
        ch?.sock.pause();
        return;
      case V1.RESUME:
        ch?.sock.resume();
        return;
      case V1.FIN:
      default:
        return; // the server's FIN is ignored; the target decides
    }
  }

  _accept(channel) {
    const sock = net.connect(this.port, this.host);
    const ch = { sock, paused: false };
    this.channels.set(channel, ch);
    this._send(V1.CONACK, channel);
    sock.on('data', (d) => this._send(V1.DATA, channel, d));
    sock.on('error', () => {});
    sock.on('close', () => {
      if (this.channels.get(channel) !== ch) return;
      this.channels.delete(channel);
      // The client's two close paths both send FIN (docs/legacy-clients.md §14.5 C9).
      this._send(V1.FIN, channel);
      this._send(V1.FIN, channel);
    });
  }
}
