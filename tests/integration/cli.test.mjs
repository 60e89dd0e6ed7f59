// exposrd's command line, configuration errors, start-up failures and shutdown,
// driven through the real binary.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort, request, runExposrd, startExposrd, waitFor, withDeadline, writeConfig } from './lib/exposrd.mjs';

const FIXTURES = process.env.EXPOSRD_FIXTURE_DIR;
const SOURCE = process.env.EXPOSRD_SOURCE_DIR;

function fixtureConfig(port, fixture = {}) {
  return { log: { level: 'info' }, http: { bind: '127.0.0.1' }, 'shutdown-timeout': 2,
    modules: { 'storage-memory': {}, fixture: { port, ...fixture } } };
}

test('--version prints the version and exits 0', async () => {
  const r = await runExposrd(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^exposrd \d+\.\d+\.\d+\n$/);
});

test('--help lists the options; hidden ones only with --show-hidden', async () => {
  const r = await runExposrd(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--ingress-http-url/);
  assert.match(r.stdout, /--allow-registration/);
  assert.doesNotMatch(r.stdout, /--redis-url/);
  const hidden = await runExposrd(['--help', '--show-hidden']);
  assert.match(hidden.stdout, /--redis-url/);
});

test('--help names each value and shows the defaults', async () => {
  const r = await runExposrd(['--help', '--show-hidden']);
  assert.equal(r.code, 0);
  const options = [...r.stdout.matchAll(/^ {2}(?:-\w, | {4})--([a-z-]+)(?: (\S+))?/gm)];
  assert.ok(options.length > 40, `the option lines (${options.length})`);
  const flags = new Set(['version', 'help', 'show-hidden']);
  for (const [line, name, value] of options) {
    if (flags.has(name)) assert.equal(value, undefined, line);
    else assert.match(value ?? '', /^[A-Z[]/, `${name} names its value: ${line}`);
  }
  const help = r.stdout.replace(/\n {3,}/g, ' ');
  for (const expected of [
    /-p, --api-port PORT +API and websocket endpoint port \(default: 8080\)/,
    /--admin-api-key KEY .*\(default: none; clients send Authorization: Bearer <base64 of KEY>\)/,
    /--allow-registration \[true\|false\] .*\(default: false\)/,
    /--transport-max-connections N .*\(default: 2\)/,
    /--storage-url URL .*\(default: memory:\/\/\)/,
    /--log-level LEVEL .*\(default: info\)/,
    /--cluster-key KEY .*\(default: secret-signing-key\)/,
  ]) assert.match(help, expected);
});

test('an unknown flag is one error line and exit status 2', async () => {
  const r = await runExposrd(['--bogus']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "exposrd: unknown option '--bogus' (see --help)\n");
});

test('a bad flag value is one error line and exit status 2', async () => {
  const r = await runExposrd(['--api-port', 'eighty']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "exposrd: --api-port: 'eighty' is not a non-negative integer\n");
});

test('a bad environment value is reported with the variable name', async () => {
  const file = writeConfig({ modules: {} });
  const r = await runExposrd(['--config', file], { env: { EXPOSR_LOG_LEVEL: 'loud' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^exposrd: EXPOSR_LOG_LEVEL: unknown level 'loud'/);
});

test('broken YAML: file:line:column and exit status 2', async () => {
  const file = writeConfig('log:\n  level: info\nmodules: [unclosed\n');
  const r = await runExposrd(['--config', file]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.startsWith(`${file}:4:1: `), r.stderr);
});

test('unknown key in a core section: file:line:column: key.path: reason', async () => {
  const file = writeConfig('http:\n  max-head: 10\n');
  const r = await runExposrd(['--config', file]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `${file}:2:13: http.max-head: unknown key\n`);
});

test('type error in a module setting is reported by the module with its location', async () => {
  const file = writeConfig('modules:\n  fixture:\n    port: lots\n');
  const r = await runExposrd(['--config', file, '--module-dir', FIXTURES]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`^${file}:3:11: modules.fixture.port: 'lots' is not an integer\n`));
});

// ---- a value is blamed where it was set ----------------------------------------------------

const DEFAULT_CONFIG = path.join(SOURCE, 'config/exposrd.yaml');
const NOT_A_URL = "modules.ingress-http.url: 'not a url' is not a URL such as https://example.com";

test('a bad value from a flag names the flag, not the YAML file', async () => {
  const r = await runExposrd(['--config', DEFAULT_CONFIG, '--ingress-http-url', 'not a url']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `--ingress-http-url: ${NOT_A_URL}\n`);
});

test('a bad value from the environment names the variable', async () => {
  const r = await runExposrd(['--config', DEFAULT_CONFIG], { env: { EXPOSR_INGRESS_HTTP_URL: 'not a url' } });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `EXPOSR_INGRESS_HTTP_URL: ${NOT_A_URL}\n`);
});

test('a bad value in the YAML file is blamed on its own line and column', async () => {
  const file = writeConfig('modules:\n  storage-memory: {}\n  ingress-http:\n    port: 8080\n    url: not a url\n');
  const r = await runExposrd(['--config', file]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `${file}:5:10: ${NOT_A_URL}\n`);
});

test('a required setting that is missing is blamed on its module', async () => {
  const file = writeConfig('modules:\n  storage-memory: {}\n  ingress-http:\n    port: 8080\n');
  const r = await runExposrd(['--config', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`^${file}:4:5: modules\\.ingress-http\\.url: [^\n]+\n$`));
});

// ---- exactly one storage module ---------------------------------------------------------------

test('storage-sqlite added next to the default storage-memory: exit 2 naming both, nothing stored', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposrd-two-storages-'));
  try {
    const db = path.join(dir, 'exposr.sqlite');
    // The obvious edit of the default file, under its storage-memory line.
    const text = fs.readFileSync(DEFAULT_CONFIG, 'utf8').replace(/^( {2}storage-memory: \{\}.*\n)/m,
      `$1  storage-sqlite: {url: "sqlite://${db}"}\n`);
    assert.match(text, /storage-sqlite/);
    const file = writeConfig(text);
    const r = await runExposrd(['--config', file]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'exposrd: modules storage-memory and storage-sqlite are both enabled, but '
      + 'exactly one storage module can be: remove one of them from modules: or set its enabled: false\n');
    assert.equal(fs.existsSync(db), false, 'the SQLite file was created');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing module names the file it looked for', async () => {
  const file = writeConfig('modules:\n  no-such-module: {}\n');
  const r = await runExposrd(['--config', file, '--module-dir', FIXTURES]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.startsWith(`${FIXTURES}/no-such-module.so: cannot load module: `), r.stderr);
});

test('a module of another ABI major is refused with one line', async () => {
  const file = writeConfig('modules:\n  fixture-abi: {}\n');
  const r = await runExposrd(['--config', file, '--module-dir', FIXTURES]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /fixture-abi\.so: refused: built for module ABI 4\.0, exposrd has 3\.\d+\n$/);
});

test('a missing config file is an error', async () => {
  const r = await runExposrd(['--config', '/nonexistent/exposrd.yaml']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, '/nonexistent/exposrd.yaml: cannot read config: No such file or directory\n');
});

test('a module is added without touching the core: the fixture serves on its port', async () => {
  const server = await startExposrd({ config: (port) => fixtureConfig(port), args: ['--module-dir', FIXTURES] });
  const r = await request(server.port, { path: '/anything' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'fixture\n');
  const stop = await server.stop();
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stderr, /SIGTERM|Terminated/);
});

// The command line is read with every module's settings table, so every module in the
// directory is opened first; those the config does not load are closed again before the
// server runs, and their libraries leave its memory (libssh alone is over 1 MB of it).
test('modules the config does not load are not kept in memory', async () => {
  const server = await startExposrd({ config: (port) => ({ log: { level: 'warn' }, http: { bind: '127.0.0.1' },
    modules: { 'storage-memory': {}, 'api-v1': { port } } }) });
  try {
    const maps = fs.readFileSync(`/proc/${server.proc.pid}/maps`, 'latin1');
    const loaded = new Set([...maps.matchAll(/\/([^/\s]+\.so)[.\d]*$/gm)].map((m) => m[1]));
    assert.ok(loaded.has('api-v1.so') && loaded.has('storage-memory.so'), [...loaded].join(' '));
    for (const absent of ['transport-ssh.so', 'libssh.so', 'storage-sqlite.so', 'libsqlite3.so', 'ingress-sni.so', 'storage-redis.so'])
      assert.ok(!loaded.has(absent), `${absent} is mapped: ${[...loaded].join(' ')}`);
  } finally {
    const stop = await server.stop();
    assert.equal(stop.code, 0, stop.stderr);
  }
});

// ---- start failures: one line, status 1, nothing claimed before ------------------------------

/** Runs exposrd on `config` (log level info) expecting a start failure; returns its one line. */
async function startFailure(config) {
  const file = writeConfig({ log: { level: 'info' }, http: { bind: '127.0.0.1' }, ...config });
  try {
    const r = await runExposrd(['--config', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /listening|running/);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
    return lines[0];
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

test('a port already in use: one line, status 1, no listener announced', async () => {
  const [apiPort, adminPort] = [await freePort(), await freePort()];
  const blocker = net.createServer().listen(adminPort, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  try {
    const line = await startFailure({ modules: { 'storage-memory': {}, 'api-v1': { port: apiPort }, admin: { port: adminPort } } });
    assert.match(line, new RegExp(`error \\[http\\] cannot listen on 127\\.0\\.0\\.1:${adminPort}: Address already in use$`));
  } finally {
    blocker.close();
  }
});

test('an SQLite file that cannot be opened: one line, status 1, no listener announced', async () => {
  const url = 'sqlite:///nonexistent-dir/exposr.sqlite';
  const line = await startFailure({ modules: { 'storage-sqlite': { url }, 'api-v1': { port: await freePort() } } });
  assert.match(line, /error \[storage-sqlite\] cannot open sqlite:\/\/\/nonexistent-dir\/exposr\.sqlite .*: unable to open database file$/);
});

test('a Redis that is down: one line, status 1, no listener announced', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`; // nothing listens there
  const line = await startFailure({ modules: { 'storage-redis': { url }, 'api-v1': { port: await freePort() } } });
  assert.match(line, new RegExp(`error \\[storage-redis\\] cannot connect to ${url}: Connection refused$`));
});

test('shutdown waits at most shutdown-timeout for a module that does not drain', async () => {
  const server = await startExposrd({
    config: (port) => ({ ...fixtureConfig(port, { 'hold-drain': true }), 'shutdown-timeout': 1 }),
    args: ['--module-dir', FIXTURES],
  });
  const started = Date.now();
  const stop = await server.stop();
  const took = Date.now() - started;
  assert.equal(stop.code, 0, stop.stderr);
  assert.ok(took >= 900 && took < 10000, `took ${took} ms`);
  assert.match(stop.stderr, /modules did not drain within 1 s/);
});

test('a second signal exits at once', async () => {
  const server = await startExposrd({
    config: (port) => ({ ...fixtureConfig(port, { 'hold-drain': true }), 'shutdown-timeout': 60 }),
    args: ['--module-dir', FIXTURES],
  });
  server.proc.kill('SIGTERM');
  // The first signal is logged before the second is sent, so both are seen in order.
  await waitFor(() => server.stderr().includes('shutting down'),
    { timeout: 10000, what: 'the first signal\'s "shutting down" line' });
  server.proc.kill('SIGINT');
  const r = await withDeadline(server.exited, 10000, 'exposrd to exit on the second signal');
  assert.equal(r.code, 1);
  assert.match(server.stderr(), /second signal/);
});

test('JSON logs with --log-format json', async () => {
  const server = await startExposrd({
    config: (port) => fixtureConfig(port),
    args: ['--module-dir', FIXTURES, '--log-format', 'json'],
  });
  const stop = await server.stop();
  assert.equal(stop.code, 0);
  const lines = stop.stderr.trim().split('\n');
  assert.ok(lines.length >= 2);
  for (const line of lines) {
    const entry = JSON.parse(line);
    assert.ok(entry.time && entry.level && entry.message, line);
  }
});

test('the default config starts every module it names and answers 404 JSON for an unknown path', async () => {
  const port = await freePort();
  const server = await startExposrd({
    port,
    args: ['--config', path.join(SOURCE, 'config/exposrd.yaml'), '--bind-address', '127.0.0.1',
      '--api-port', String(port), '--ingress-http-port', String(port),
      '--ingress-http-url', `http://localhost:${port}`, '--log-level', 'info'],
  });
  const r = await request(port, { path: '/no/such/path' });
  assert.equal(r.status, 404);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.deepEqual(r.json, { error: 'NOT_FOUND' });
  const api = await request(port, { method: 'POST', path: '/v1/account' });
  assert.equal(api.status, 404, 'registration is off by default');
  const stop = await server.stop();
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stderr, /running with 4 modules/);
});

test('the seed quick-start command line is accepted', async () => {
  const port = await freePort();
  const server = await startExposrd({
    port,
    args: ['--config', path.join(SOURCE, 'config/exposrd.yaml'), '--bind-address', '127.0.0.1',
      '--api-port', String(port), '--ingress-http-port', String(port),
      '--api-url', `http://host.docker.internal:${port}`, '--allow-registration',
      '--http-ingress-domain', `http://localhost:${port}`],
  });
  const r = await request(port, { method: 'POST', path: '/v1/account', headers: { host: `host.docker.internal:${port}` } });
  assert.equal(r.status, 201, r.body);
  const stop = await server.stop();
  assert.equal(stop.code, 0, stop.stderr);
});
