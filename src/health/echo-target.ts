// The far end of a shadowsocks round trip: a TCP echo server on loopback that the probe asks the proxy
// to connect to. Started on first use and kept; it never keeps the daemon alive on its own.
import net from 'node:net';

/** Connections the proxy leaves open (it may keep them after the probe hung up) end after this. */
const IDLE_MS = 30_000;
/** Bytes echoed per connection: a probe sends a few dozen, anything more is not ours. */
const MAX_BYTES = 64 * 1024;

let listening: Promise<number> | undefined;

function start(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      let echoed = 0;
      socket.unref();
      socket.setTimeout(IDLE_MS, () => socket.destroy());
      socket.on('error', () => socket.destroy());
      socket.on('data', (chunk) => {
        echoed += chunk.length;
        if (echoed > MAX_BYTES) socket.destroy();
        else socket.write(chunk);
      });
    });
    // Any local user can reach it: bound what they can hold open (probes need a few at a time).
    server.maxConnections = 1024;
    server.once('error', (error) => {
      listening = undefined; // the next probe tries again
      reject(error);
    });
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** The port of the loopback echo server, starting it if needed. */
export function echoTargetPort(): Promise<number> {
  listening ??= start();
  return listening;
}
