// Node peer for the echo benchmark: 'data' handler writes the chunk back.
// Usage: node echo.js [--port P]   (listens on 127.0.0.1 only; port 0 picks one)
'use strict';
const net = require('net');

const i = process.argv.indexOf('--port');
const port = i >= 0 ? Number(process.argv[i + 1]) : 0;
const server = net.createServer({ noDelay: true }, (sock) => {
  sock.setNoDelay(true);
  sock.on('data', (chunk) => sock.write(chunk));
  sock.on('error', () => sock.destroy());
});
server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
