// Drives one bench run against a fresh `argus serve`; prints one result line.
//   node driver.js deliveries <argus-url> <key> <receiver-url> <n>
//     The cpu queue is paused and a webhook takes task.created: <n> tasks submitted in batches
//     of 1000 become <n> deliveries and nothing else runs. Prints
//     "deliveries <n> <seconds first..last delivery> <deliveries/s> <requests> <log_succeeded>".
//   node driver.js outbox <argus-url> <key> <receiver-url> <n>
//     Against a server with webhooks.dispatch false: a webhook takes task.created and <n> tasks
//     are submitted to the paused cpu queue; their events wait in the outbox. Prints
//     "outbox <webhook id>".
//   node driver.js catchup <argus-url> <key> <receiver-url> <n> <webhook id>
//     Against the same data directory served again with dispatch on (the receiver reset before
//     it started): waits until the receiver has <n> distinct webhook-ids. Prints
//     "catchup <n> <seconds first..last delivery> <deliveries/s> <requests> <log_succeeded>".
//   node driver.js e2e <argus-url> <key> <receiver-url> <n>
//     A webhook and a WebSocket subscriber take task.succeeded; <n> no-op tasks are submitted
//     and the clock stops once the receiver has every task's webhook-id and the WebSocket every
//     frame. Prints "e2e <n> <seconds> <tasks/s> <ws_frames> <requests> <log_succeeded>".
// <log_succeeded> counts the deliveries /v1/webhooks/{id}/deliveries lists as succeeded.
'use strict';
const crypto = require('crypto');
const http = require('http');
const net = require('net');

const [mode, argusUrl, key, receiverUrl, nText, hookArg] = process.argv.slice(2);
const n = Number(nText);
const agent = new http.Agent({keepAlive: true, maxSockets: 4});
const namespace = 'bench';

function call(method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const req = http.request(url, {method, agent, headers: {
      'Authorization': 'Bearer ' + key, 'X-Namespace': namespace,
      'Content-Type': 'application/json', ...headers}}, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode >= 300) {
          reject(new Error(`${method} ${url}: ${res.statusCode} ${text.slice(0, 300)}`));
        } else {
          resolve(text ? JSON.parse(text) : null);
        }
      });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}
const api = (method, path, body, headers) => call(method, argusUrl + path, body, headers);
const stats = () => call('GET', receiverUrl + '/stats');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A WebSocket client on a bare socket (Debian's Node has no WebSocket client): the handshake,
// one masked subscribe frame out, unmasked frames in; counts text frames.
function webSocket(events) {
  return new Promise((resolve, reject) => {
    const u = new URL(argusUrl);
    const socket = net.connect(Number(u.port), u.hostname);
    const ws = {frames: 0};
    let buffer = Buffer.alloc(0);
    let open = false;
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(`GET /v1/ws HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
                   'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
                   `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
                   `Authorization: Bearer ${key}\r\nX-Namespace: ${namespace}\r\n\r\n`);
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!open) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buffer.slice(0, end).toString().startsWith('HTTP/1.1 101')) {
          return reject(new Error('no WebSocket: ' + buffer.slice(0, end)));
        }
        open = true;
        buffer = buffer.slice(end + 4);
        const text = Buffer.from(JSON.stringify({subscribe: {events}}));
        const mask = crypto.randomBytes(4);
        const head = Buffer.from([0x81, 0x80 | text.length]);  // short enough for 7 bits
        socket.write(Buffer.concat([head, mask, text.map((b, i) => b ^ mask[i % 4])]));
      }
      for (;;) {
        if (buffer.length < 2) return;
        let len = buffer[1] & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buffer.length < 4) return;
          len = buffer.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buffer.length < 10) return;
          len = Number(buffer.readBigUInt64BE(2));
          off = 10;
        }
        if (buffer.length < off + len) return;
        const opcode = buffer[0] & 0x0f;
        const payload = buffer.slice(off, off + len);
        buffer = buffer.slice(off + len);
        if (opcode !== 1) continue;
        if (payload.includes('"subscribed"')) {
          resolve(ws);
        } else {
          ws.frames++;
        }
      }
    });
  });
}

async function submit(count) {
  for (let sent = 0; sent < count; sent += 1000) {
    const k = Math.min(1000, count - sent);
    await api('POST', '/v1/tasks/batch', {tasks: Array.from({length: k}, () => ({kind: 'noop'}))});
  }
}

async function succeededInLog(hook) {
  let count = 0;
  let after = '';
  for (;;) {
    const page = await api('GET', `/v1/webhooks/${hook}/deliveries?status=succeeded&limit=1000` +
                           (after ? `&cursor=${after}` : ''));
    count += page.items.length;
    after = page.next_cursor;
    if (!after) return count;
  }
}

// The last attempts are recorded just after the receiver answered them: the count is read again
// for up to 5 s until it reaches `n`.
async function succeededInLogSettled(hook, n) {
  const deadline = Date.now() + 5000;
  let count;
  while ((count = await succeededInLog(hook)) < n && Date.now() < deadline) await sleep(100);
  return count;
}

async function waitUntil(done, what) {
  const deadline = Date.now() + 600000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await sleep(5);
  }
}

async function main() {
  if (mode === 'catchup') {
    let s;
    await waitUntil(async () => (s = await stats()).distinct >= n, 'catch-up deliveries');
    const seconds = (s.last_ms - s.first_ms) / 1000;
    const logged = await succeededInLogSettled(hookArg, n);
    console.log(`catchup ${n} ${seconds.toFixed(3)} ${(n / seconds).toFixed(0)} ${s.requests} ` +
                `${logged}`);
    agent.destroy();
    process.exit(0);
  }
  await api('POST', '/v1/namespaces', {name: namespace});
  await call('POST', receiverUrl + '/reset');
  const events = mode === 'e2e' ? ['task.succeeded'] : ['task.created'];
  const hook = (await api('POST', '/v1/webhooks', {url: receiverUrl + '/hook', events})).id;
  if (mode === 'outbox') {
    await api('POST', '/v1/queues/cpu/pause');
    await submit(n);
    console.log(`outbox ${hook}`);
  } else if (mode === 'deliveries') {
    await api('POST', '/v1/queues/cpu/pause');
    const submitStart = Date.now();
    await submit(n);
    const submitEnd = Date.now();
    let s;
    await waitUntil(async () => (s = await stats()).distinct >= n, 'deliveries');
    // The deliveries overlap the submission: say how long it took, so a delivery rate bounded
    // by the submission shows as such.
    console.error(`bench: submitted ${n} tasks in ${((submitEnd - submitStart) / 1000).toFixed(3)} s;` +
                  ` deliveries from +${((s.first_ms - submitStart) / 1000).toFixed(3)} s` +
                  ` to +${((s.last_ms - submitStart) / 1000).toFixed(3)} s`);
    const seconds = (s.last_ms - s.first_ms) / 1000;
    const logged = await succeededInLogSettled(hook, n);
    console.log(`deliveries ${n} ${seconds.toFixed(3)} ${(n / seconds).toFixed(0)} ` +
                `${s.requests} ${logged}`);
  } else {
    const ws = await webSocket(events);
    const start = process.hrtime.bigint();
    await submit(n);
    let s;
    await waitUntil(async () => ws.frames >= n && (s = await stats()).distinct >= n, 'e2e');
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const logged = await succeededInLogSettled(hook, n);
    console.log(`e2e ${n} ${seconds.toFixed(3)} ${(n / seconds).toFixed(0)} ${ws.frames} ` +
                `${s.requests} ${logged}`);
  }
  agent.destroy();
  process.exit(0);
}

main().catch((e) => {
  console.error('bench/webhooks: ' + e.message);
  process.exit(1);
});
