/**
 * Worker thread for `racepilot bench link --telemetry-clients N`: N−1 WebSocket clients that read everything, and
 * one that completes the handshake and then never reads (a stuck ground laptop). They live in their own thread so
 * their cost stays off the daemon's event loop, as remote clients' would.
 */
import { connect } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';

const { url, port, n } = workerData as { url: string; port: number; n: number };
let open = 0;
let frames = 0;
const readers = Math.max(0, n - 1);
for (let i = 0; i < readers; i++) {
  const ws = new WebSocket(url);
  ws.on('open', () => {
    if (++open === readers) parentPort!.postMessage({ ready: true });
  });
  ws.on('message', () => frames++);
  ws.on('error', () => undefined);
}
if (readers === 0) parentPort!.postMessage({ ready: true });
const stuck = connect(port, '127.0.0.1', () =>
  stuck.write(
    'GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  ),
);
stuck.once('data', () => stuck.pause());
stuck.on('error', () => undefined);
parentPort!.on('message', () => parentPort!.postMessage({ frames }));
