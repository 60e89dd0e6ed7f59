// HTTP requests as the tests and packaging/smoke.mjs make them; nothing else, so that
// it can be imported without an exposrd build.
import http from 'node:http';

/**
 * One HTTP request; resolves with { status, headers, body (string), json }. `timeout` bounds
 * each silence, `deadline` the whole exchange.
 */
export function request(port, { method = 'GET', path: p = '/', headers = {}, body, host = '127.0.0.1', timeout = 10000, deadline = Math.max(60000, 2 * timeout) } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: p, headers, agent: false, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
      res.on('error', reject);
    });
    // Rejected here as well: a response already under way may end without an 'error'.
    const fail = (why) => {
      const err = new Error(`${method} ${host}:${port}${p}: ${why}`);
      req.destroy(err);
      reject(err);
    };
    req.on('timeout', () => fail(`no answer for ${timeout} ms`));
    const timer = setTimeout(() => fail(`not done within ${deadline} ms`), deadline);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    if (body !== undefined) req.write(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
    req.end();
  });
}
