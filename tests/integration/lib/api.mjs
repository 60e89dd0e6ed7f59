// Helpers for the API tests: requests with tokens and JSON bodies, exact-body checks,
// accounts and tunnels made in one call, a tiny DNS server for the alt-name checks.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';

import { request } from './exposrd.mjs';
import { onceWithin } from './deadline.mjs';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';
export const TUNNEL_ID_REGEX = '/^(?:[a-z0-9][a-z0-9\\-]{4,63}[a-z0-9]|[a-z0-9]{4,63})$/';
export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const ACCOUNT_RE = /^[CDEFHJKMNPRTVWXY2345689]{16}$/;

export const b64 = (text) => Buffer.from(text).toString('base64');

/**
 * One API request. `token` adds `Authorization: Bearer <token>`; an object `body` is sent
 * as JSON with `Content-Type: application/json` unless `contentType` says otherwise
 * (null: no Content-Type at all).
 */
export function api(port, method, path, { token, body, headers = {}, contentType = 'application/json', host } = {}) {
  const h = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  if (body !== undefined && contentType !== null && h['content-type'] === undefined) h['content-type'] = contentType;
  return request(port, { method, path, headers: h, body, host });
}

/** The exact JSON text (compact, key order) and the JSON content type. */
export function assertJson(res, status, expected) {
  assert.equal(res.status, status, `status (body ${res.body})`);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  assert.equal(res.body, JSON.stringify(expected));
}

/** A status-only answer: the reason phrase as text. */
export function assertText(res, status, text) {
  assert.equal(res.status, status, `status (body ${res.body})`);
  assert.equal(res.headers['content-type'], TEXT_TYPE);
  assert.equal(res.body, text);
}

export function assertBadInput(res, field) {
  assertJson(res, 400, { error: 'BAD_INPUT', field });
}

/** Registers an account (needs allow-registration) and fetches its token. */
export async function newAccount(port) {
  const reg = await api(port, 'POST', '/v1/account');
  assert.equal(reg.status, 201, reg.body);
  const { account_id: id, account_id_hr: hr } = reg.json;
  const tok = await api(port, 'GET', `/v1/account/${id}/token`);
  assert.equal(tok.status, 201, tok.body);
  return { id, hr, token: tok.json.token };
}

/** PUT /v1/tunnel/<id> with `body` (default {}); asserts 200. */
export async function newTunnel(port, account, id, body = {}) {
  const res = await api(port, 'PUT', `/v1/tunnel/${id}`, { token: account.token, body });
  assert.equal(res.status, 200, res.body);
  return res.json;
}

/** The admin API with a key. */
export function admin(port, method, path, key, options = {}) {
  const headers = { ...(options.headers ?? {}) };
  if (key !== undefined) headers.authorization = `Bearer ${b64(key)}`;
  return api(port, method, path, { ...options, headers });
}

function dnsName(buf, offset) {
  const labels = [];
  while (buf[offset] !== 0) {
    const len = buf[offset];
    labels.push(buf.subarray(offset + 1, offset + 1 + len).toString('latin1'));
    offset += len + 1;
  }
  return { name: labels.join('.'), end: offset + 1 };
}

function dnsEncode(name) {
  const parts = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/**
 * A DNS server on 127.0.0.1 answering CNAME queries from `records` ({name: target});
 * names not listed get NXDOMAIN, names mapped to null get no answer at all. Resolves with
 * { port, queries (names asked), close() }.
 */
export async function startDnsServer(records) {
  const socket = dgram.createSocket('udp4');
  const queries = [];
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const { name, end } = dnsName(msg, 12);
    queries.push(name);
    const key = Object.keys(records).find((k) => k.toLowerCase() === name.toLowerCase());
    if (key !== undefined && records[key] === null) return;
    const header = Buffer.from(msg.subarray(0, 12));
    header[2] = 0x81; // QR, RD
    header[3] = key === undefined ? 0x83 : 0x80; // RA, NXDOMAIN or NOERROR
    header.writeUInt16BE(key === undefined ? 0 : 1, 6);
    header.writeUInt16BE(0, 8);
    header.writeUInt16BE(0, 10);
    const parts = [header, msg.subarray(12, end + 4)];
    if (key !== undefined) {
      const rdata = dnsEncode(records[key]);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the question's name
      rr.writeUInt16BE(5, 2); // CNAME
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(rdata.length, 10);
      parts.push(rr, rdata);
    }
    socket.send(Buffer.concat(parts), rinfo.port, rinfo.address);
  });
  socket.bind(0, '127.0.0.1');
  await onceWithin(socket, 'listening');
  return {
    port: socket.address().port,
    queries,
    close: () => new Promise((resolve) => socket.close(resolve)),
  };
}

/**
 * One kept-alive HTTP/1.1 connection for several requests in a row (for a server that
 * stops accepting new connections while it shuts down). Bodies need a Content-Length.
 */
export async function keepAliveConnection(port, host = '127.0.0.1') {
  const net = await import('node:net');
  const socket = net.connect(port, host);
  await onceWithin(socket, 'connect');
  let buffered = Buffer.alloc(0);
  let waiting = null;
  const tryParse = () => {
    const end = buffered.indexOf('\r\n\r\n');
    if (waiting === null || end < 0) return;
    const head = buffered.subarray(0, end).toString('latin1');
    const length = Number((/\r\ncontent-length: *(\d+)/i.exec(head) ?? [0, 0])[1]);
    if (buffered.length < end + 4 + length) return;
    const body = buffered.subarray(end + 4, end + 4 + length).toString('utf8');
    buffered = buffered.subarray(end + 4 + length);
    const resolve = waiting;
    waiting = null;
    resolve({ status: Number(head.split(' ')[1]), head, body });
  };
  socket.on('data', (chunk) => { buffered = Buffer.concat([buffered, chunk]); tryParse(); });
  return {
    get(path) {
      return new Promise((resolve, reject) => {
        waiting = resolve;
        socket.once('error', reject);
        socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
      });
    },
    close() { socket.destroy(); },
  };
}

/** Polls GET /v1/tunnel/<id> until `predicate(connection)` holds; resolves with the tunnel. */
export async function waitForState(port, account, id, predicate, timeout = 5000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const res = await api(port, 'GET', `/v1/tunnel/${id}`, { token: account.token });
    if (res.status === 200 && predicate(res.json.connection)) return res.json;
    if (Date.now() > deadline) throw new Error(`tunnel ${id}: state ${res.body}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
