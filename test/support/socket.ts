import { io, Socket } from 'socket.io-client';
import type { ClientEventMap, ClientEventName } from '@app/pubsub';
import { waitFor } from '@app/testing';

/** One event as a client received it: the payload and, for recorded events, the id sent as second argument. */
export interface ReceivedEvent<E extends ClientEventName = ClientEventName> {
  event: E;
  payload: ClientEventMap[E];
  id?: string;
  at: number;
}

export interface ConnectOptions {
  /** Sent as `auth.lastEventId` on every (re)connection; a function is read at each attempt. */
  lastEventId?: string | (() => string | undefined);
  /** Extra handshake auth fields (they replace `token` when they set it). */
  auth?: Record<string, unknown>;
  /** Handshake headers (Node clients only), e.g. authorization or origin. */
  headers?: Record<string, string>;
  /** Default ['websocket']; ['polling'] or both to exercise the long-polling transport. */
  transports?: ('websocket' | 'polling')[];
  /** Automatic reconnection after a lost connection (default false, so a test sees each disconnect). */
  reconnection?: boolean;
  timeoutMs?: number;
}

const received = new WeakMap<Socket, ReceivedEvent[]>();
const consumed = new WeakMap<Socket, Set<ReceivedEvent>>();
const open = new Set<Socket>();

/** Creates a client that records every event from the start (replayed events can arrive with the connect). */
export function createSocket(url: string, token: string | undefined, options: ConnectOptions = {}): Socket {
  const socket = io(url, {
    autoConnect: false,
    forceNew: true,
    transports: options.transports ?? ['websocket'],
    reconnection: options.reconnection ?? false,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    timeout: options.timeoutMs ?? 5000,
    extraHeaders: options.headers,
    auth: (callback) => {
      const lastEventId = typeof options.lastEventId === 'function' ? options.lastEventId() : options.lastEventId;
      callback({ ...(token === undefined ? {} : { token }), ...(lastEventId === undefined ? {} : { lastEventId }), ...options.auth });
    },
  });
  const log: ReceivedEvent[] = [];
  received.set(socket, log);
  consumed.set(socket, new Set());
  socket.onAny((event: ClientEventName, payload: ClientEventMap[ClientEventName], meta?: { id?: string }) => {
    log.push({ event, payload, id: meta?.id, at: Date.now() });
  });
  open.add(socket);
  return socket;
}

/** Connects and resolves once connected; rejects with the connect_error (its message is the server's). */
export async function connectSocket(url: string, token: string | undefined, options: ConnectOptions = {}): Promise<Socket> {
  const socket = createSocket(url, token, options);
  await waitForConnect(socket, options.timeoutMs);
  return socket;
}

/** Connects (again) an existing client and waits for it. */
export function waitForConnect(socket: Socket, timeoutMs = 5000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`socket did not connect within ${timeoutMs} ms`)), timeoutMs);
    const onConnect = () => finish();
    const onError = (error: Error) => finish(error);
    function finish(error?: Error): void {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
      if (error) {
        socket.disconnect();
        reject(error);
      } else resolve(socket);
    }
    socket.on('connect', onConnect);
    socket.on('connect_error', onError);
    if (!socket.connected && !socket.active) socket.connect();
    else if (socket.connected) finish();
  });
}

/** The connect_error a refused connection gets (fails the test when it connects). */
export async function connectError(url: string, token: string | undefined, options: ConnectOptions = {}): Promise<Error> {
  try {
    const socket = await connectSocket(url, token, options);
    socket.disconnect();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the connection to be refused, but it was accepted');
}

/** Everything the client received so far, in order (optionally only some event names). */
export function receivedEvents<E extends ClientEventName = ClientEventName>(socket: Socket, names?: E[]): ReceivedEvent<E>[] {
  const log = (received.get(socket) ?? []) as ReceivedEvent<E>[];
  return names ? log.filter((entry) => names.includes(entry.event)) : [...log];
}

/**
 * The next `name` event matching `predicate` that an earlier nextEvent call on this socket has not
 * returned yet: already received ones count (in order), otherwise waits up to `timeoutMs`.
 */
export function nextEvent<E extends ClientEventName>(
  socket: Socket,
  name: E,
  predicate: (payload: ClientEventMap[E], id?: string) => boolean = () => true,
  timeoutMs = 5000,
): Promise<ReceivedEvent<E>> {
  const taken = consumed.get(socket) ?? new Set<ReceivedEvent>();
  const find = (): ReceivedEvent<E> | undefined =>
    (received.get(socket) ?? []).find(
      (entry): entry is ReceivedEvent<E> => entry.event === name && !taken.has(entry) && predicate(entry.payload as ClientEventMap[E], entry.id),
    );
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const match = find();
      if (!match) return false;
      taken.add(match);
      cleanup();
      resolve(match);
      return true;
    };
    // onAny listeners run in order: this one runs after the recorder, so the log is up to date.
    const listener = () => void check();
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${name} event within ${timeoutMs} ms (received: ${JSON.stringify(receivedEvents(socket).map((e) => [e.event, e.id]))})`));
    }, timeoutMs);
    function cleanup(): void {
      clearTimeout(timer);
      socket.offAny(listener);
    }
    if (!check()) socket.onAny(listener);
  });
}

/** Waits until `predicate` holds over the received log (e.g. a job_completed for a job) and returns the log. */
export async function collectEvents(
  socket: Socket,
  until: (events: ReceivedEvent[]) => boolean,
  options: { names?: ClientEventName[]; timeoutMs?: number } = {},
): Promise<ReceivedEvent[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return waitFor(
    () => {
      const events = receivedEvents(socket, options.names);
      return until(events) ? events : undefined;
    },
    () => `the events within ${timeoutMs} ms (received: ${JSON.stringify(receivedEvents(socket, options.names).map((e) => [e.event, e.id]))})`,
    timeoutMs,
    10,
  );
}

/** Fails when a `name` event (matching `predicate`) arrives within `ms` (or already did, unconsumed). */
export async function expectNoEvent<E extends ClientEventName>(
  socket: Socket,
  name: E,
  ms = 300,
  predicate: (payload: ClientEventMap[E]) => boolean = () => true,
): Promise<void> {
  const event = await nextEvent(socket, name, predicate, ms).catch(() => undefined);
  if (event) throw new Error(`unexpected ${name} event: ${JSON.stringify(event)}`);
}

/** Resolves with the disconnect reason (e.g. "io server disconnect", "transport close"). */
export function waitForDisconnect(socket: Socket, timeoutMs = 5000): Promise<string> {
  if (!socket.connected) return Promise.resolve('not connected');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still connected after ${timeoutMs} ms`)), timeoutMs);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

/** Closes every client the helpers created (call in afterEach/afterAll). */
export function disconnectAll(): void {
  for (const socket of open) socket.disconnect();
  open.clear();
}
