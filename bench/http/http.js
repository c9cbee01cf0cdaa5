// Node.js `http` plaintext server: the Node peer of bench/http. Node adds Date and keeps
// connections alive by default. Prints `listening on 127.0.0.1:P` when ready.
'use strict';
const http = require('http');

const i = process.argv.indexOf('--port');
const port = i > 0 ? Number(process.argv[i + 1]) : 8080;
const body = Buffer.from('Hello, World!');
const headers = { 'Content-Type': 'text/plain', 'Content-Length': body.length };

const server = http.createServer((req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.listen({ port, host: '127.0.0.1', backlog: 1024 }, () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
