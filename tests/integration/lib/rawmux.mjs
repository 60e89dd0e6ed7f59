// A raw multiplex test client: a plain `ws` websocket and hand-made multiplex messages
// (docs/transport.md §4.6-4.8), for behaviour the real library would never show the server
// (malformed input, fake v1 clients, wrong channel numbers).
//
//   import { connectRaw, encode, decode, T } from './lib/rawmux.mjs';
//   const raw = await connectRaw(url);            // rejects with err.status/err.json on refusal
//   raw.send(encode(T.ACK, 1, 1));                // one unfragmented binary message
//   raw.sendFragments([header, data1, data2]);    // one message as header + continuation frames
//   const msg = await raw.next();                 // next multiplex message (decoded)
//   const { code, reason } = await raw.closed;    // websocket close
//
// connectRaw options: autoPong (default true), timeout for next() (default 5000 ms).
// raw.pings lists the times (ms) at which server pings arrived; raw.messages keeps every
// message not yet taken with next().
import WebSocket from 'ws';

export const T = { DATA: 1, OPEN: 2, ACK: 3, CLOSE: 4, PAUSE: 5, RESUME: 6 };
export const T1 = { DATA: 1, CON: 2, CONACK: 3, FIN: 4, PAUSE: 5, RESUME: 6 };

/** A v2 message: 16-byte header and payload (Buffer or string). */
export function encode(type, dst, src, payload = Buffer.alloc(0), { version = 2, length } = {}) {
  const data = Buffer.from(payload);
  const h = Buffer.alloc(16);
  h.writeUInt16BE(version, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(dst, 4);
  h.writeUInt32BE(src, 8);
  h.writeUInt32BE(length ?? data.length, 12);
  return Buffer.concat([h, data]);
}

/** A v1 message: 12-byte header and payload. */
export function encodeV1(type, channel, payload = Buffer.alloc(0)) {
  const data = Buffer.from(payload);
  const h = Buffer.alloc(12);
  h.writeUInt16BE(1, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(channel, 4);
  h.writeUInt32BE(data.length, 8);
  return Buffer.concat([h, data]);
}

/** Decodes a v2 (or, with version 1, a v1) message. */
export function decode(buf) {
  const version = buf.readUInt16BE(0);
  if (version === 1) {
    return { version, type: buf.readUInt16BE(2), channel: buf.readUInt32BE(4),
      length: buf.readUInt32BE(8), payload: buf.subarray(12), raw: buf };
  }
  return { version, type: buf.readUInt16BE(2), dst: buf.readUInt32BE(4), src: buf.readUInt32BE(8),
    length: buf.readUInt32BE(12), payload: buf.subarray(16), raw: buf };
}

export class RawMux {
  constructor(ws, { timeout = 5000 } = {}) {
    this.ws = ws;
    this.timeout = timeout;
    this.messages = [];
    this.pings = [];
    this._waiters = [];
    ws.on('message', (data) => {
      this.messages.push(decode(Buffer.from(data)));
      this._wake();
    });
    ws.on('ping', () => this.pings.push(Date.now()));
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closedAt = Date.now();
        resolve({ code, reason: reason.toString('utf8') });
        this._wake();
      });
    });
  }

  _wake() {
    const waiters = this._waiters;
    this._waiters = [];
    for (const w of waiters) w();
  }

  send(buf) {
    this.ws.send(buf, { binary: true, compress: false });
  }

  /** One message as several frames: the first binary (FIN=0), the rest continuations. */
  sendFragments(parts) {
    parts.forEach((p, i) => this.ws.send(p, { binary: true, compress: false, fin: i === parts.length - 1 }));
  }

  /** The next message matching `filter` (default: any); rejects on timeout or close. */
  async next(filter = () => true, timeout = this.timeout) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const i = this.messages.findIndex(filter);
      if (i >= 0) return this.messages.splice(i, 1)[0];
      if (this.closedAt !== undefined) throw new Error('websocket closed while waiting for a message');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a multiplex message');
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this._waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** Resolves true if no matching message arrives within `ms`. */
  async quiet(ms, filter = () => true) {
    try {
      await this.next(filter, ms);
      return false;
    } catch {
      return true;
    }
  }

  close(code = 1000) {
    this.ws.close(code);
  }
}

/** Connects to a transport.ws.url; a refused upgrade rejects with status and JSON body. */
export function connectRaw(url, { autoPong = true, timeout } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { autoPong, handshakeTimeout: 5000 });
    ws.once('unexpected-response', (req, res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const err = new Error(`upgrade refused: ${res.statusCode} ${body}`);
        err.status = res.statusCode;
        err.headers = res.headers;
        err.body = body;
        try { err.json = JSON.parse(body); } catch { err.json = undefined; }
        ws.terminate();
        reject(err);
      });
    });
    ws.once('error', reject);
    ws.once('upgrade', (res) => { ws.upgradeHeaders = res.headers; });
    ws.once('open', () => resolve(new RawMux(ws, { timeout })));
  });
}
