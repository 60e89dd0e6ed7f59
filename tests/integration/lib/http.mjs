// HTTP requests as the tests and packaging/smoke.mjs make them; nothing else, so that
// it can be imported without an exposrd build.
import http from 'node:http';

/** One HTTP request; resolves with { status, headers, body (string), json }. */
export function request(port, { method = 'GET', path: p = '/', headers = {}, body, host = '127.0.0.1', timeout = 10000 } = {}) {
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
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (body !== undefined) req.write(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
    req.end();
  });
}
