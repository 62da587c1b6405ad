// The demo proxy the default config supervises: a line-based TCP echo server that needs only Node.
// "PING" gets "PONG", anything else comes back as sent, so a tcp check with send/expect can tell a
// hung server from one whose listening socket still accepts connections.
import net from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '9101' } },
});
const host = values.host!;
const port = Number(values.port);
const sockets = new Set<net.Socket>();

const server = net.createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => socket.destroy());
  createInterface({ input: socket, crlfDelay: Infinity })
    .on('line', (line) => socket.write(line.trim() === 'PING' ? 'PONG\n' : `${line}\n`))
    // readline passes the socket's errors on (a client that resets, as an HTTP check may): the
    // socket's own handler has dealt with it.
    .on('error', () => {});
});

// The port actually bound is logged, so --port 0 works for tests.
server.listen(port, host, () => {
  const { address, port: bound } = server.address() as net.AddressInfo;
  console.log(`echo-server listening on ${address}:${bound} pid ${process.pid}`);
});

process.on('SIGTERM', () => {
  // server.close() alone would wait for every client to hang up.
  for (const socket of sockets) socket.destroy();
  server.close(() => process.exit(0));
});
