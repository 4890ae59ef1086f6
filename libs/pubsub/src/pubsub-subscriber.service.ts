import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { RedisClient } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';
import { CLIENT_EVENT_NAMES, isClientEventName, PubSubEnvelope } from './client-events';
import { pubsubKeys } from './pubsub-keys';
import { createSubscriberConnection } from './pubsub-redis.provider';

/** What the subscriber hands its events to (ClientSessionsService, in the API). */
export interface PubSubListener {
  /** An event published by any process, for any user. */
  onPubSubMessage(envelope: PubSubEnvelope): void;
  /** The subscription is back after a Redis outage: events published meanwhile were missed. */
  onPubSubResubscribed(): void;
}

/**
 * The receiving end of pubsub: one subscriber connection per process, opened only when a listener
 * registers (the API does, the worker never does).
 */
@Injectable()
export class PubSubSubscriber implements OnApplicationShutdown {
  private readonly logger = new Logger(PubSubSubscriber.name);
  private connection?: RedisClient;
  private subscribed?: Promise<void>;

  constructor(@Inject(redisConfig.KEY) private readonly config: RedisConfig) {}

  /** Subscribes to every client event channel; `ready()` resolves once Redis has confirmed it. */
  listen(listener: PubSubListener): void {
    if (this.connection) throw new Error('PubSubSubscriber already has a listener');
    const connection = createSubscriberConnection(this.config, `pubsub-subscriber:${this.config.prefix}`);
    this.connection = connection;
    const channels = new Map(CLIENT_EVENT_NAMES.map((event) => [pubsubKeys.channel(this.config.prefix, event), event]));

    connection.on('message', (channel: string, message: string) => {
      const envelope = channels.has(channel) ? this.parse(message) : undefined;
      if (envelope) listener.onPubSubMessage(envelope);
    });
    let readyBefore = false;
    connection.on('ready', () => {
      if (!readyBefore) {
        readyBefore = true;
        return;
      }
      // ioredis has re-sent SUBSCRIBE before 'ready'; the PING answer comes after its confirmation.
      connection.ping().then(
        () => listener.onPubSubResubscribed(),
        () => undefined,
      );
    });
    this.subscribed = connection.subscribe(...channels.keys()).then(() => undefined);
    this.subscribed.catch((error: Error) => this.logger.error(`Redis subscribe failed: ${error.message}`));
  }

  /** Resolves when events published from now on will be received. */
  ready(): Promise<void> {
    if (!this.subscribed) return Promise.reject(new Error('PubSubSubscriber is not listening'));
    return this.subscribed;
  }

  /**
   * Resolves once every message published before this call has been received (and dispatched): Redis
   * answers a PING on the subscriber connection after the messages already queued for it.
   */
  async sync(): Promise<void> {
    await this.ready();
    await this.connection!.ping();
  }

  /** Stops receiving (before shutdown flushes per-socket state). */
  stop(): void {
    this.connection?.disconnect();
  }

  onApplicationShutdown(): void {
    this.stop();
  }

  private parse(message: string): PubSubEnvelope | undefined {
    try {
      const envelope = JSON.parse(message) as Partial<PubSubEnvelope>;
      const valid =
        isClientEventName(envelope.event) &&
        typeof envelope.userId === 'string' &&
        typeof envelope.payload === 'object' &&
        envelope.payload !== null &&
        (envelope.id === undefined || typeof envelope.id === 'string');
      if (valid) return envelope as PubSubEnvelope;
    } catch {
      // reported below
    }
    this.logger.warn(`Ignoring a malformed message on the notification channels (${message.length} bytes)`);
    return undefined;
  }
}
