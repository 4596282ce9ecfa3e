// server.js ADDR PORT: net.createServer().listen(PORT, ADDR) until killed.
// Prints the address once listening; on failure the error on stderr and exit 1.
'use strict';
const net = require('net');

const [addr, port] = process.argv.slice(2);
const server = net.createServer((socket) => socket.destroy());
server.on('error', (err) => {
  console.error(`server ${addr} port ${port}: ${err.message}`);
  process.exit(1);
});
server.listen(Number(port), addr, () => {
  console.log(`listening on ${JSON.stringify(server.address())}`);
});
