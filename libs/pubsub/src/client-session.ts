import { ClientEventMap, ClientEventMeta, ClientEventName, NotificationEnvelope, StoredNotification } from './client-events';
import { compareStreamIds, maxStreamId } from './stream-id';

/** Sends one event to one client: recorded events with their id as second argument, deltas without. */
export type SendToClient = <E extends ClientEventName>(event: E, payload: ClientEventMap[E], meta?: ClientEventMeta) => void;

/** Text deltas held back during a catch-up beyond this are dropped (they are best-effort; the final text comes with job_completed). */
const MAX_BUFFERED_EPHEMERAL = 1000;

/**
 * One connected client. It sends each recorded event at most once and in id order: events replayed
 * from the stream go out first, live events that arrived meanwhile are held back and then sent unless
 * the replay already covered them.
 */
export class ClientSession {
  /** Newest recorded event id this client was sent or deliberately skipped. */
  lastId: string | undefined;
  private buffer: NotificationEnvelope[] | undefined;
  private ephemeralBuffered = 0;
  private closedFlag = false;

  constructor(
    readonly userId: string,
    private readonly send: SendToClient,
  ) {}

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
   * Sends the replayed events, then the held-back live ones that are newer; `readUpTo` is the newest id
   * the replay looked at, including events it filtered out on purpose.
   */
  finishCatchUp(replayed: StoredNotification[], readUpTo?: string): void {
    const held = this.buffer ?? [];
    this.buffer = undefined;
    this.ephemeralBuffered = 0;
    for (const event of replayed) this.emit(event);
    this.lastId = maxStreamId(this.lastId, readUpTo);
    for (const envelope of held) this.emit(envelope);
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
