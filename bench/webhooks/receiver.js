// A minimal webhook receiver on Node's own `http` (keep-alive): reads each POST body whole,
// counts requests and distinct `webhook-id`s, answers 200 with an empty body. The same code takes
// Argus's deliveries and wrk's ceiling run.
//   node receiver.js <port-file> [sample-file]
// GET /stats answers {"requests", "distinct", "first_ms", "last_ms"} (wall-clock milliseconds of
// the first and the latest POST); POST /reset clears them. The first delivery's headers and body
// are written to <sample-file> as JSON (wrk replays that exact request).
'use strict';
const fs = require('fs');
const http = require('http');

const [portFile, sampleFile] = process.argv.slice(2);
let requests = 0;
let ids = new Set();
let firstMs = 0;
let lastMs = 0;
let sampled = !sampleFile;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({requests, distinct: ids.size, first_ms: firstMs, last_ms: lastMs}));
    return;
  }
  if (req.method === 'POST' && req.url === '/reset') {
    requests = 0;
    ids = new Set();
    firstMs = lastMs = 0;
    res.end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    if (requests === 0) firstMs = now;
    lastMs = now;
    requests++;
    ids.add(req.headers['webhook-id']);
    if (!sampled) {
      sampled = true;
      const headers = {};
      for (const name of ['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature',
                          'user-agent']) {
        if (req.headers[name] !== undefined) headers[name] = req.headers[name];
      }
      fs.writeFileSync(sampleFile, JSON.stringify({path: req.url, headers,
                                                   body: Buffer.concat(chunks).toString()}));
    }
    res.writeHead(200, {'Content-Length': '0'});
    res.end();
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
