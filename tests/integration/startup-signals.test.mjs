// SIGTERM at any moment of start-up ends exposrd cleanly (exit status 0, never killed by
// the signal), from the moment its main() blocks the stop signals to the "running" line.
// Before main() the dynamic loader runs and no program can handle a signal yet, so the
// moments are counted from when /proc shows SIGTERM blocked.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';

import { freePort, writeConfig } from './lib/exposrd.mjs';

const BIN = process.env.EXPOSRD_BIN;
const MODULE_DIR = process.env.EXPOSRD_MODULE_DIR;
const MOMENTS = 200;
const PARALLEL = 6;
const SIGTERM_BIT = 1n << 14n; // signal 15 in /proc/<pid>/status masks

/** Every module that opens something at start: a database file, two listening ports. */
function config(dir, port, adminPort) {
  return {
    log: { level: 'info' },
    http: { bind: '127.0.0.1' },
    modules: {
      'storage-sqlite': { url: `sqlite://${dir}/exposr.sqlite` },
      'api-v1': { port },
      'ingress-http': { port, url: `http://localhost:${port}` },
      'transport-ws': { port },
      admin: { port: adminPort },
    },
  };
}

/** Whether SIGTERM is in a mask of /proc/<pid>/status: 'SigBlk' blocked, 'SigCgt' caught. */
function hasSigterm(status, field) {
  const mask = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status);
  return mask !== null && (BigInt(`0x${mask[1]}`) & SIGTERM_BIT) !== 0n;
}

/**
 * Spins, without yielding to the event loop (start-up takes milliseconds; a turn of the
 * loop spent on the other runs could miss it), until `reached(status)` holds for
 * /proc/<pid>/status; `what` names it in the error after 10 s.
 */
function readStatus(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return ''; // not there yet
  }
}

function spinUntil(pid, reached, what) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const status = readStatus(pid);
    if (reached(status)) return;
    if (/^State:\s*Z/m.test(status)) throw new Error(`exposrd exited before ${what}`);
    if (Date.now() > deadline) throw new Error(`exposrd did not reach ${what} within 10 s (/proc/${pid}/status)`);
  }
}

// SIGTERM blocked; or, for a start seen late, already let through to its handler.
const started = (status) => hasSigterm(status, 'SigBlk') || hasSigterm(status, 'SigCgt');
// Start-up is over when the loop lets SIGTERM through to its handler.
const running = (status) => !hasSigterm(status, 'SigBlk') && hasSigterm(status, 'SigCgt');

/**
 * Starts exposrd, waits until it has blocked SIGTERM, then sends SIGTERM after `delay` ms
 * (or, with `delay` null, once start-up is over). Resolves with { code, signal, stderr,
 * ms } where ms is the time from blocked to the signal.
 */
async function signalDuringStart(delay) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposrd-startsig-'));
  const file = writeConfig(config(dir, await freePort(), await freePort()));
  const proc = spawn(BIN, ['--config', file, '--module-dir', MODULE_DIR], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  // 'close', not 'exit': stderr is read to its end.
  const exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  let exit = null;
  exited.then((r) => { exit = r; });
  try {
    spinUntil(proc.pid, started, 'blocking SIGTERM');
    const blockedAt = performance.now();
    if (delay === null) spinUntil(proc.pid, running, 'the end of start-up (SIGTERM let through)');
    else while (performance.now() - blockedAt < delay); // spun: timers are too coarse
    const ms = Math.round((performance.now() - blockedAt) * 10) / 10;
    // Still blocked right before the signal: it comes while exposrd is starting.
    const duringStart = hasSigterm(readStatus(proc.pid), 'SigBlk');
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
    const r = await exited;
    clearTimeout(timer);
    if (r.signal === 'SIGKILL') throw new Error(`exposrd did not exit within 20 s of SIGTERM at ${ms} ms:\n${stderr}`);
    return { ...r, stderr, ms, duringStart };
  } finally {
    if (exit === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

test(`SIGTERM at ${MOMENTS} moments of start-up: every exit is clean`, { timeout: 240000 }, async () => {
  // The time from blocked to "running", measured on this machine now.
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push((await signalDuringStart(null)).ms);
  const span = runs.sort((a, b) => a - b)[1];
  const delays = Array.from({ length: MOMENTS }, (_, i) => (span * i) / (MOMENTS - 1));
  const failures = [];
  let duringStart = 0;
  let stoppedBeforeRunning = 0;
  for (let i = 0; i < delays.length; i += PARALLEL) {
    const batch = await Promise.all(delays.slice(i, i + PARALLEL).map((d) => signalDuringStart(d)));
    for (const r of batch) {
      if (r.duringStart) duringStart++;
      if (!r.stderr.includes(' running with ')) stoppedBeforeRunning++;
      if (r.code !== 0 || r.signal !== null || !/SIGTERM|Terminated/.test(r.stderr)) {
        failures.push(`SIGTERM at ${r.ms} ms: exit ${r.code}, signal ${r.signal}\n${r.stderr}`);
      }
    }
  }
  console.log(`# start-up took ${runs.join(', ')} ms; ${duringStart} of ${MOMENTS} signals came during it, `
    + `${stoppedBeforeRunning} stopped it before "running"`);
  assert.deepEqual(failures, [], `${failures.length} of ${MOMENTS} exits were not clean`);
  assert.ok(duringStart >= MOMENTS / 10, `only ${duringStart} signals came during start-up: the moments missed it`);
});
