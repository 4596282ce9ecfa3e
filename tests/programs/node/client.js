// client.js ADDR PORT SRC: net.connect within 4 s, from SRC (localAddress) unless it
// is a wildcard.  Exit 0 once connected, 1 with the error on stderr.
'use strict';
const net = require('net');

const TIMEOUT_MS = 4000;
const [addr, port, src] = process.argv.slice(2);
const options = { host: addr, port: Number(port), timeout: TIMEOUT_MS };
if (src !== '0.0.0.0' && src !== '::') {
  options.localAddress = src;
}
const socket = net.connect(options, () => {
  console.log(`connected ${socket.localAddress} port ${socket.localPort} -> ` +
              `${socket.remoteAddress} port ${socket.remotePort}`);
  socket.setTimeout(0);
  socket.end();
});
socket.on('timeout', () => {
  console.error(`connect ${addr} port ${port}: no connection within ${TIMEOUT_MS} ms`);
  process.exitCode = 1;
  socket.destroy();
});
socket.on('error', (err) => {
  console.error(`connect ${addr} port ${port}: ${err.message}`);
  process.exitCode = 1;
});
