#!/usr/bin/env node
// The reads scenario's floor: a bare node:http server that answers every GET with the same body of
// BYTES bytes, so that what the machine and HTTP cost alone is measured beside the daemon's routes.
// `node floor-http.mjs BYTES MARKER`: prints its port, serves until killed.
import http from 'node:http';

const body = Buffer.alloc(Number(process.argv[2]), 'x');
const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  response.end(body);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
