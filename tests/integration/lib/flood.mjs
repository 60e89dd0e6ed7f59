// Peers that never read: exposrd's RSS as the tests watch it, and a writer that keeps a
// socket's send side full without ever reading its receive side.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const RSS_LIMIT_KB = 32 * 1024;

export function rssKb(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

export function isAsan(pid) {
  return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libasan');
}

/**
 * Samples the RSS of process `pid` at each check(): under RSS_LIMIT_KB, or for an ASan
 * build (whose quarantine and shadow memory make the number incomparable) grown by less
 * than `asanGrowthKb` since the start; asanGrowthKb null leaves an ASan build's number
 * unchecked. `curve` lists the samples as "elapsed:kB".
 */
export function rssWatch(pid, { asanGrowthKb = null, name = `pid ${pid}` } = {}) {
  const asan = isAsan(pid);
  const start = rssKb(pid);
  const began = Date.now();
  const curve = [`0s:${start}`];
  return {
    curve,
    asan,
    check() {
      const rss = rssKb(pid);
      curve.push(`${Math.round((Date.now() - began) / 1000)}s:${rss}`);
      if (!asan)
        assert.ok(rss < RSS_LIMIT_KB, `${name}: RSS ${rss} kB over ${RSS_LIMIT_KB} kB; so far: ${curve.join(' ')}`);
      else if (asanGrowthKb !== null)
        assert.ok(rss - start < asanGrowthKb, `${name}: RSS grew from ${start} to ${rss} kB (ASan build)`);
    },
  };
}

/** Writes `chunk` to `sock` (never read) until `deadline` or until it closes; true if it closed. */
export async function floodSocket(sock, chunk, deadline) {
  let closed = false;
  sock.on('error', () => {});
  const ended = new Promise((resolve) => sock.on('close', () => { closed = true; resolve(); }));
  while (!closed && Date.now() < deadline) {
    if (sock.write(chunk)) continue;
    await Promise.race([new Promise((resolve) => sock.once('drain', resolve)), ended,
      sleep(deadline - Date.now())]);
  }
  return closed;
}
