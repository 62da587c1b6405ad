// `run --inspect [ws://host:port]`: every actor of the system reported to a Stately-compatible
// inspector over a WebSocket, in @statelyai/inspect's format. Off unless asked: nothing is observed
// otherwise.
//
// The library's own WebSocket adapter does not suit a daemon that runs for months: it reconnects
// only when connecting fails, not when an open connection drops (a restarted relay is never heard
// from again), and while disconnected it keeps the last 200 events, so an inspector that connects
// late misses the actors' creation and cannot draw them. This adapter reconnects whenever the
// connection is gone, and on every connection announces each live actor with its current snapshot.
import { createInspector } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';
import WebSocket from 'ws';
import type { Logger } from '../logging/logger.ts';
import type { Redactor } from '../logging/redact.ts';

const RECONNECT_MS = 2_000;

/**
 * The library's default depth (10) silently cuts deeper definitions and contexts short; ours fit in
 * it today (the test checks the definitions arrive whole), one more level of nesting would not.
 */
const SERIALIZATION_DEPTH = 40;

type ActorEvent = Extract<InspectionEvent, { type: '@xstate.actor' }>;

export interface RemoteInspectorOptions {
  url: string;
  /** Applied to every string sent: error texts in events and contexts may quote a secret. */
  redact: () => Redactor;
  logger: Logger;
}

export function createRemoteInspector({ url, redact, logger }: RemoteInspectorOptions) {
  const live = new Map<string, ActorEvent>();
  let socket: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  /** Logged once per change, not once per retry. */
  let connected: boolean | undefined;

  const inspector = createInspector(
    {
      send(event: unknown) {
        if (socket?.readyState !== WebSocket.OPEN) return;
        const scrub = redact();
        socket.send(JSON.stringify(event, (_key, value) => (typeof value === 'string' ? scrub(value) : value)));
      },
    },
    { serializationDepthLimit: SERIALIZATION_DEPTH },
  );

  function connect() {
    socket = new WebSocket(url);
    socket.on('open', () => {
      connected = true;
      logger.info({ url, actors: live.size }, 'inspector connected');
      for (const event of live.values()) inspector.inspect.next!(event);
    });
    // 'close' follows every error, and ends every connection: that is where to try again.
    socket.on('error', (error) => {
      if (connected !== false) logger.warn({ url, error: error.message, retry_ms: RECONNECT_MS }, 'inspector unreachable; retrying');
      connected = false;
    });
    socket.on('close', () => {
      if (stopped) return;
      if (connected) logger.warn({ url, retry_ms: RECONNECT_MS }, 'inspector connection lost; retrying');
      connected = false;
      retry = setTimeout(connect, RECONNECT_MS);
    });
  }

  return {
    inspect(event: InspectionEvent) {
      // Connected on the first event, once the supervisor exists: a daemon that cannot start (bad
      // config, state dir locked) exits without a socket retrying in the background.
      if (!socket && !stopped) connect();
      if (event.type === '@xstate.actor') live.set(event.actorRef.sessionId, event);
      else if (event.type === '@xstate.snapshot' && (event.snapshot as { status: string }).status !== 'active')
        live.delete(event.actorRef.sessionId);
      inspector.inspect.next!(event);
    },
    stop() {
      stopped = true;
      clearTimeout(retry);
      socket?.close();
    },
  };
}
