// A real redis-server (the Debian package) for the tests: on a free loopback port, in a
// temporary directory of its own, with commands sent in raw RESP over one TCP connection.
//
//   import { startRedis } from './lib/redis.mjs';
//   const redis = await startRedis({ appendonly: true });
//   redis.url                          // redis://127.0.0.1:<port>
//   await redis.command('SET', 'k', 'v');   // 'OK'; a Redis error reply rejects
//   await redis.stop();                // SIGTERM, waits for the exit (data dir kept)
//   await redis.restart();             // same port, same data dir, waits for PONG
//   await redis.remove();              // stops it if running, deletes the data dir
//
// Options of startRedis():
//   appendonly   --appendonly yes|no (default false): with true the data survives restart()
//   save         --save (default '': no RDB snapshots)
//   port         default: a free one
//   args         more redis-server arguments
//   startTimeout bound on the wait for PONG (default 10000 ms)
//
// Replies are JavaScript values: simple strings and bulk strings as strings (a missing
// bulk string or array as null), integers as numbers, arrays as arrays.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onceWithin } from './deadline.mjs';

const HOST = '127.0.0.1';

export class RedisError extends Error {}

async function freePort() {
  const srv = net.createServer();
  srv.listen(0, HOST);
  await onceWithin(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await onceWithin(srv, 'close');
  return port;
}

function encode(args) {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) {
    const s = String(a);
    parts.push(`$${Buffer.byteLength(s)}\r\n${s}\r\n`);
  }
  return parts.join('');
}

// Parses one reply at `offset`; returns { value, end } or null while incomplete.
function parse(buf, offset = 0) {
  const eol = buf.indexOf('\r\n', offset);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.subarray(offset + 1, eol).toString('utf8');
  const next = eol + 2;
  switch (type) {
    case '+': return { value: line, end: next };
    case '-': return { value: new RedisError(line), end: next };
    case ':': return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return null;
      return { value: buf.subarray(next, next + len).toString('utf8'), end: next + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = [];
      let at = next;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, at);
        if (item === null) return null;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`unexpected RESP reply: ${JSON.stringify(buf.toString('latin1'))}`);
  }
}

/** One command on a fresh connection to 127.0.0.1:`port`; resolves with the reply. */
export function redisCommand(port, args, { timeout = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST);
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err); else resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(`redis ${args[0]} timed out`)), timeout);
    s.on('connect', () => s.write(encode(args)));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let reply;
      try {
        reply = parse(buf);
      } catch (e) {
        finish(e);
        return;
      }
      if (reply === null) return;
      if (reply.value instanceof RedisError) finish(reply.value);
      else finish(null, reply.value);
    });
    s.on('error', (e) => finish(e));
    s.on('close', () => finish(new Error(`redis closed the connection during ${args[0]}`)));
  });
}

/** Starts redis-server; resolves once it answers PING. */
export async function startRedis({ appendonly = false, save = '', port, args = [], startTimeout = 10000 } = {}) {
  port = port ?? await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposrd-redis-'));
  let proc = null;
  let exited = null;
  let output = '';

  const running = () => proc !== null && proc.exitCode === null && proc.signalCode === null;

  async function launch() {
    output = '';
    proc = spawn('redis-server', [
      '--port', String(port), '--bind', HOST, '--dir', dir, '--save', save,
      '--appendonly', appendonly ? 'yes' : 'no', '--daemonize', 'no', '--logfile', '',
      ...args,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d) => { output += d; });
    proc.stderr.on('data', (d) => { output += d; });
    exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    const spawnError = new Promise((resolve) => proc.once('error', resolve));
    const deadline = Date.now() + startTimeout;
    for (;;) {
      const err = await Promise.race([spawnError, sleep(0).then(() => null)]);
      if (err) throw new Error(`cannot run redis-server: ${err.message}`);
      if (!running()) throw new Error(`redis-server exited at start:\n${output}`);
      try {
        if (await redisCommand(port, ['PING'], { timeout: 500 }) === 'PONG') return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`redis-server did not answer PING within ${startTimeout} ms:\n${output}`);
      }
      await sleep(50);
    }
  }

  async function stop({ signal = 'SIGTERM', timeout = 5000 } = {}) {
    if (!running()) return;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeout);
    await exited;
    clearTimeout(timer);
  }

  await launch().catch((e) => {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  });

  return {
    host: HOST,
    port,
    dir,
    url: `redis://${HOST}:${port}`,
    get running() { return running(); },
    output: () => output,
    command: (...cmd) => redisCommand(port, cmd),
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async remove() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
