// The bench's stand-in proxy where ss-server is not installed: listens on 127.0.0.1:PORT and closes
// every connection it accepts. Plain JavaScript so it starts without tsx.
// usage: node bench/tiny-server.mjs PORT MARKER   (the marker only tags the command line)
import net from 'node:net';

const port = Number(process.argv[2]);
net.createServer((socket) => socket.end()).listen(port, '127.0.0.1');
