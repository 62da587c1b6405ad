import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEchoServer, type EchoServer } from '../health/echo.ts';

async function converse(port: number, send: string, replyLines: number): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  socket.write(send);
  let reply = '';
  for await (const chunk of socket) {
    reply += chunk;
    if (reply.split('\n').length > replyLines) break;
  }
  socket.destroy();
  return reply;
}

describe('demo echo server', () => {
  let server: EchoServer | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  it('answers PING with PONG and echoes other lines', async () => {
    server = await startEchoServer();
    expect(await converse(server.port, 'PING\nhello there\n', 2)).toBe('PONG\nhello there\n');
  });

  it('outlives a client that resets its connection (as an HTTP check may)', async () => {
    server = await startEchoServer();
    const client = net.connect({ host: '127.0.0.1', port: server.port });
    await new Promise((resolve) => client.once('connect', resolve));
    client.write('GET / HTTP/1.1\r\n');
    client.resetAndDestroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.child.exitCode).toBeNull();
    expect(await converse(server.port, 'PING\n', 1)).toBe('PONG\n');
  });

  it('exits 0 on SIGTERM even with a client connected', async () => {
    server = await startEchoServer();
    const client = net.connect({ host: '127.0.0.1', port: server.port });
    client.on('error', () => {});
    await new Promise((resolve) => client.once('connect', resolve));
    expect(await server.stop()).toBe(0);
    client.destroy();
  });
});
