// The core's busy-poll setting (README, "Core settings"): with it, requests through a tunnel
// come back as they do without it, the server still sleeps when nothing happens, it stops
// cleanly on SIGTERM, and a value out of its bounds is refused with its source.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, runExposrd, startExposrd, tunnelConfig, writeConfig } from './lib/exposrd.mjs';
import { TunnelClient } from './lib/client.mjs';

const BUSY_POLL_US = 300;

let srv;
let target;
let client;

before(async () => {
  srv = await startExposrd({
    config: (port) => ({ ...tunnelConfig(port), log: { level: 'info' }, 'busy-poll': BUSY_POLL_US }),
  });
  target = http.createServer((req, res) => {
    const body = `hello from ${req.url}`;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
  client = await TunnelClient.create({ port: srv.port, target: `http://127.0.0.1:${target.address().port}/` });
  await client.connect();
});

after(async () => {
  await client?.stop();
  target?.closeAllConnections();
  target?.close();
  if (srv) {
    const r = await srv.stop();
    assert.equal(r.code, 0, `exposrd exit ${r.code} ${r.signal}:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /did not exit/);
  }
});

/** exposrd's user + system CPU time so far, in seconds (/proc/<pid>/stat, 100 ticks/s). */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

test('the server says it busy-polls, and requests come back through the tunnel', async () => {
  assert.match(srv.stderr(), new RegExp(`busy polling: the loop polls for ${BUSY_POLL_US} us after each wake-up`));
  for (let i = 0; i < 100; i++) {
    const r = await request(srv.port, { path: `/r${i}`, headers: { Host: `${client.id}.localhost:${srv.port}` } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, `hello from /r${i}`);
  }
});

// A loop that never went back to sleep would use most of a core over the window, even when
// two CPU hogs and the other tests share the machine's two cores.
test('with nothing to do, the server sleeps', async () => {
  const before = cpuSeconds(srv.proc.pid);
  await sleep(3000); // the window measured, not a wait for an event
  const used = cpuSeconds(srv.proc.pid) - before;
  assert.ok(used < 0.25, `${used.toFixed(2)} s of CPU in 3 s of idleness`);
});

test('a busy-poll value out of bounds or not a number is refused, naming its line', async () => {
  for (const [value, why] of [[20000, /busy-poll: 20000 is out of range \(0 to 10000\)/],
    [-1, /busy-poll: -1 is out of range \(0 to 10000\)/],
    ['fast', /busy-poll: 'fast' is not an integer/]]) {
    const file = writeConfig(`busy-poll: ${value}\nmodules:\n  storage-memory: {}\n`);
    try {
      const r = await runExposrd(['--config', file]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.match(r.stderr, /exposrd\.yaml:1:/);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  }
});
