import { ClientEventMap, ClientEventMeta, ClientEventName, NotificationEnvelope, StoredNotification } from './client-events';
import { compareStreamIds, maxStreamId } from './stream-id';

/** Sends one event to one client: recorded events with their id as second argument, deltas without. */
export type SendToClient = <E extends ClientEventName>(event: E, payload: ClientEventMap[E], meta?: ClientEventMeta) => void;

/** Text deltas held back during a catch-up beyond this are dropped (they are best-effort; the final text comes with job_completed). */
const MAX_BUFFERED_EPHEMERAL = 1000;

/**
 * One connected client. It sends each recorded event at most once and in id order: while it catches
 * up, live events are held back, then merged with the replayed ones (a live event is never dropped for
 * being filtered out of the replay).
 */
export class ClientSession {
  /** Newest recorded event id this client was sent or deliberately skipped. */
  lastId: string | undefined;
  private buffer: NotificationEnvelope[] | undefined;
  private ephemeralBuffered = 0;
  private closedFlag = false;

  /** `lastId`: the id the client says it has seen already (lastEventId); nothing up to it is sent. */
  constructor(
    readonly userId: string,
    private readonly send: SendToClient,
    lastId?: string,
  ) {
    this.lastId = lastId;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get catchingUp(): boolean {
    return this.buffer !== undefined;
  }

  /** A live event for this client's user. */
  deliver(envelope: NotificationEnvelope): void {
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
    if (event.id === undefined) return this.send(event.event, event.payload);
    if (this.lastId !== undefined && compareStreamIds(event.id, this.lastId) <= 0) return;
    this.lastId = event.id;
    this.send(event.event, event.payload, { id: event.id });
  }
}
