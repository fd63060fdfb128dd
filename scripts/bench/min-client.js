// The floor for a Node client: the same mTLS POST with https.request and nothing else.
// Usage: node min-client.js URL CERT_CHAIN KEY CA
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

const [url, cert, key, ca] = process.argv.slice(2);
const req = request(new URL('/devicecontrol/deviceAccessToken', url), {
  method: 'POST',
  headers: { Accept: 'application/json', 'Content-Length': '0' },
  cert: readFileSync(cert),
  key: readFileSync(key),
  ca: readFileSync(ca),
  agent: false,
});
req.on('response', (res) => {
  let body = '';
  res
    .setEncoding('utf8')
    .on('data', (d) => (body += d))
    .on('end', () => {
      process.stdout.write(JSON.parse(body).accessToken + '\n');
    });
});
req.on('error', (err) => {
  console.error(err.message);
  process.exitCode = 1;
});
req.end();
