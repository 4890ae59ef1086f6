import { ClientEventMap, ClientEventMeta, ClientEventName, PubSubEnvelope, StoredNotification } from './client-events';
import { compareStreamIds, maxStreamId } from './stream-id';

/** Where events leave the process: the API's RealtimeGateway, whose clientSend is the one Socket.IO emit. */
export interface ClientSender {
  /** Sends one event to one client: recorded events with `meta` (their id), deltas without. */
  clientSend<E extends ClientEventName>(event: E, clientId: string, payload: ClientEventMap[E], meta?: ClientEventMeta): void;
}

/** Text deltas held back during a catch-up beyond this are dropped (they are best-effort; the final text comes with job_completed). */
const MAX_BUFFERED_EPHEMERAL = 1000;

/**
 * One connected client (a socket). It sends each recorded event at most once and in id order: while it
 * catches up, live events are held back, then merged with the replayed ones (a live event is never
 * dropped for being filtered out of the replay).
 */
export class ClientSession {
  /** Newest recorded event id this client was sent or deliberately skipped. */
  lastId: string | undefined;
  private buffer: PubSubEnvelope[] | undefined;
  private ephemeralBuffered = 0;
  private closedFlag = false;

  /** `clientId`: the socket's id, for the sender. `lastId`: the id the client says it has seen already (lastEventId); nothing up to it is sent. */
  constructor(
    readonly userId: string,
    readonly clientId: string,
    private readonly sender: ClientSender,
    lastId?: string,
  ) {
    this.lastId = lastId;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** A live event for this client's user. */
  deliver(envelope: PubSubEnvelope): void {
    if (this.closedFlag) return;
    if (!this.buffer) return this.emit(envelope);
    if (envelope.id === undefined) {
      if (this.ephemeralBuffered >= MAX_BUFFERED_EPHEMERAL) return;
      this.ephemeralBuffered++;
    }
    this.buffer.push(envelope);
  }

  /** Holds live events back until finishCatchUp. */
  startCatchUp(): void {
    this.buffer ??= [];
  }

  /**
   * Sends the replayed events and the held-back live ones merged in id order, each once. The caller
   * makes sure every live event published before the read has arrived (held back) by now, so nothing
   * up to `readUpTo` (the newest id the read looked at, also if filtered out) can still come later.
   */
  finishCatchUp(replayed: StoredNotification[], readUpTo?: string): void {
    const held = this.buffer ?? [];
    this.buffer = undefined;
    this.ephemeralBuffered = 0;
    let next = 0;
    for (const envelope of held) {
      if (envelope.id !== undefined) {
        while (next < replayed.length && compareStreamIds(replayed[next].id, envelope.id) < 0) this.emit(replayed[next++]);
      }
      this.emit(envelope);
    }
    while (next < replayed.length) this.emit(replayed[next++]);
    this.lastId = maxStreamId(this.lastId, readUpTo);
  }

  close(): void {
    this.closedFlag = true;
    this.buffer = undefined;
  }

  private emit(event: { id?: string; event: ClientEventName; payload: ClientEventMap[ClientEventName] }): void {
    if (this.closedFlag) return;
    if (event.id === undefined) return this.sender.clientSend(event.event, this.clientId, event.payload);
    if (this.lastId !== undefined && compareStreamIds(event.id, this.lastId) <= 0) return;
    this.lastId = event.id;
    this.sender.clientSend(event.event, this.clientId, event.payload, { id: event.id });
  }
}
