import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { RedisConnection } from '@app/common';
import { realtimeConfig, RealtimeConfig, redisConfig, RedisConfig } from '@app/config';
import { ClientSender, ClientSession } from './client-session';
import { PubSubEnvelope } from './client-events';
import { MissedQuery, NotificationsService } from './notifications.service';
import { PubSubListener, PubSubSubscriber } from './pubsub-subscriber.service';
import { SEAT_HEARTBEAT_MS, SocketSeats } from './socket-seats';
import { streamIdTime } from './stream-id';

const MAX_CLOCK_SKEW_MS = 60_000;

export interface OpenSessionOptions {
  /** The last event id the client saw (canonical stream id): replay every recorded event after it. */
  lastEventId?: string;
}

/**
 * The sessions of this API process, free of Socket.IO: it receives every published event once per
 * process and hands it to the sessions (sockets) of the event's user here, after each new session has
 * caught up with what it missed from the notification log.
 */
@Injectable()
export class ClientSessionsService implements PubSubListener, BeforeApplicationShutdown {
  private readonly logger = new Logger(ClientSessionsService.name);
  private readonly sessions = new Map<string, Set<ClientSession>>();
  private readonly catchUps = new WeakMap<ClientSession, Promise<void>>();
  private readonly cursorWrites = new Map<string, Promise<void>>();
  private sender?: ClientSender;
  private stopping = false;
  /** MAX_SOCKETS_PER_USER across instances; undefined when it is 0 (off). */
  private readonly seats?: SocketSeats;
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly subscriber: PubSubSubscriber,
    private readonly notifications: NotificationsService,
    @Inject(RedisConnection) redis: RedisConnection,
    @Inject(redisConfig.KEY) redisOptions: RedisConfig,
    @Inject(realtimeConfig.KEY) realtime: RealtimeConfig,
  ) {
    if (realtime.maxSocketsPerUser > 0) this.seats = new SocketSeats(redis, redisOptions.prefix, realtime.maxSocketsPerUser);
  }

  /** Live sockets a user may hold across all instances (0 = no limit). */
  get maxSocketsPerUser(): number {
    return this.seats?.max ?? 0;
  }

  /**
   * Before a socket of `userId` connects: takes one of the user's MAX_SOCKETS_PER_USER seats, false at the
   * cap. Redis unreachable: admitted (a limit that cannot be checked does not lock users out).
   */
  async admit(userId: string, clientId: string): Promise<boolean> {
    if (!this.seats) return true;
    try {
      return await this.seats.take(userId, clientId);
    } catch (error) {
      this.logger.warn(`Could not count the sockets of user ${userId} (${(error as Error).message}); admitting`);
      return true;
    }
  }

  /** The socket admitted for `userId` is gone (connected or not): its seat is free. */
  async release(userId: string, clientId: string): Promise<void> {
    await this.seats?.release(userId, clientId).catch((error: Error) => this.logger.warn(`Could not free a socket seat of user ${userId}: ${error.message}`));
  }

  /** Subscribes this process to pubsub; sessions send through `sender`. Called once, by the gateway at its init. */
  start(sender: ClientSender): void {
    if (this.sender) throw new Error('ClientSessionsService is already started');
    this.sender = sender;
    this.subscriber.listen(this);
    if (this.seats) {
      this.heartbeat = setInterval(() => void this.refreshSeats(), SEAT_HEARTBEAT_MS);
      this.heartbeat.unref();
    }
  }

  /**
   * Registers a connected client of `userId`. It first receives what it missed (every recorded event
   * after `lastEventId`, or without one the job_completed events after the user's disconnect cursor),
   * then live events; each recorded event once, in order.
   */
  open(userId: string, clientId: string, options: OpenSessionOptions = {}): ClientSession {
    if (!this.sender) throw new Error('ClientSessionsService is not started');
    // An id from the future (a client's bogus value) would hold back every event: fall back to the cursor.
    const lastEventId = options.lastEventId !== undefined && streamIdTime(options.lastEventId) <= Date.now() + MAX_CLOCK_SKEW_MS ? options.lastEventId : undefined;
    const session = new ClientSession(userId, clientId, this.sender, lastEventId);
    let sessions = this.sessions.get(userId);
    if (!sessions) this.sessions.set(userId, (sessions = new Set()));
    sessions.add(session);
    this.scheduleCatchUp(session, () => (lastEventId === undefined ? { onlyCompleted: true } : { after: lastEventId, onlyCompleted: false }));
    return session;
  }

  /** The client is gone: remember how far it got, so its next connection without lastEventId resumes there. */
  close(session: ClientSession): void {
    if (session.closed) return;
    const { lastId } = session;
    session.close();
    const sessions = this.sessions.get(session.userId);
    sessions?.delete(session);
    if (sessions?.size === 0) this.sessions.delete(session.userId);
    if (lastId !== undefined) this.rememberDelivered(session.userId, lastId);
  }

  /** Number of open sessions on this process (all users, or one). */
  sessionCount(userId?: string): number {
    if (userId !== undefined) return this.sessions.get(userId)?.size ?? 0;
    let count = 0;
    for (const sessions of this.sessions.values()) count += sessions.size;
    return count;
  }

  /** Stops live delivery and saves every session's cursor while Redis is still connected. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.heartbeat);
    this.subscriber.stop();
    const seats: Promise<void>[] = [];
    for (const sessions of [...this.sessions.values()]) {
      for (const session of [...sessions]) {
        this.close(session);
        seats.push(this.release(session.userId, session.clientId));
      }
    }
    await Promise.all([...this.cursorWrites.values(), ...seats]);
  }

  /** An event published by any process: to the sessions of its user on this process. */
  onPubSubMessage(envelope: PubSubEnvelope): void {
    const sessions = this.sessions.get(envelope.userId);
    if (!sessions) return;
    for (const session of sessions) session.deliver(envelope);
  }

  /** After a subscriber outage every session re-reads the notification log from the last id it was sent. */
  onPubSubResubscribed(): void {
    for (const sessions of this.sessions.values()) {
      for (const session of sessions) this.scheduleCatchUp(session, () => ({ after: session.lastId, onlyCompleted: false }));
    }
  }

  /** Catch-ups of one session run one after the other; live events are held back from now on. */
  private scheduleCatchUp(session: ClientSession, query: () => MissedQuery): void {
    session.startCatchUp();
    const previous = this.catchUps.get(session) ?? Promise.resolve();
    const next = previous.then(() => this.catchUp(session, query()));
    this.catchUps.set(session, next);
  }

  private async catchUp(session: ClientSession, query: MissedQuery): Promise<void> {
    session.startCatchUp();
    for (let attempt = 1; !session.closed && !this.stopping; attempt++) {
      try {
        // Subscribed first, read second: whatever is published after the read reaches the session live.
        await this.subscriber.ready();
        // A tab of this user that just closed here: read after its cursor is saved.
        await this.cursorWrites.get(session.userId);
        const missed = await this.notifications.missed(session.userId, query);
        // The live copies of everything the read saw are now held back too, so the merge is complete.
        await this.subscriber.sync();
        session.finishCatchUp(missed.events, missed.lastId);
        return;
      } catch (error) {
        const delayMs = Math.min(attempt * 500, 5000);
        this.logger.warn(`Replay for user ${session.userId} failed (${(error as Error).message}); retrying in ${delayMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      }
    }
  }

  /** Keeps the seats of this instance's sockets alive; an instance that dies stops, and its seats expire. */
  private async refreshSeats(): Promise<void> {
    for (const [userId, sessions] of this.sessions) {
      await this.seats?.refresh(userId, [...sessions].map((session) => session.clientId)).catch((error: Error) => this.logger.warn(`Could not refresh the socket seats of user ${userId}: ${error.message}`));
    }
  }

  private rememberDelivered(userId: string, id: string): void {
    const write: Promise<void> = (this.cursorWrites.get(userId) ?? Promise.resolve())
      .then(() => this.notifications.rememberDelivered(userId, id))
      .catch((error: Error) => this.logger.warn(`Could not save the notification cursor of user ${userId}: ${error.message}`))
      .finally(() => {
        if (this.cursorWrites.get(userId) === write) this.cursorWrites.delete(userId);
      });
    this.cursorWrites.set(userId, write);
  }
}
