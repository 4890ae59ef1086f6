import { Injectable } from '@nestjs/common';
import { ClientEventMap, ClientEventName, isRecordedEvent } from './client-events';
import { NotificationRepository } from './notification.repository';

/**
 * Announces an event to every socket of a user, on every API instance. Recorded events (job_completed,
 * job_status) are stored in the user's notification log before they are published, so a client that is
 * offline gets them when it comes back; job_delta is published only. Each API process receives it in
 * PubSubSubscriber -> ClientSessionsService -> ClientSession -> RealtimeGateway.clientSend.
 */
@Injectable()
export class PubSubService {
  constructor(private readonly repository: NotificationRepository) {}

  /**
   * Records (when the event is replayable) and publishes `payload`, exactly as clients receive it.
   * With `meta.once` (recorded events only) it happens at most once per key, atomically with the record; with
   * `meta.unless`, only while that once-key is unused (an event that must not follow the one announced under it).
   * Rejects when Redis is unavailable; the event is then neither recorded nor sent.
   */
  async publish<E extends ClientEventName>(event: E, userId: string, payload: ClientEventMap[E], meta: { correlationId?: string; once?: string; unless?: string } = {}): Promise<void> {
    if (!userId) throw new Error(`publish(${event}): userId is required`);
    const owner = (payload as { userId?: unknown }).userId;
    if (owner !== undefined && owner !== userId) throw new Error(`publish(${event}): payload.userId does not match the recipient`);
    const envelope = { event, userId, payload, correlationId: meta.correlationId };
    if (meta.once !== undefined && meta.unless !== undefined) throw new Error(`publish(${event}): once and unless do not go together`);
    if (isRecordedEvent(event)) await this.repository.appendAndPublish(envelope, meta.once, meta.unless);
    else if (meta.once !== undefined || meta.unless !== undefined) throw new Error(`publish(${event}): only recorded events can be announced once`);
    else await this.repository.publish(envelope);
  }
}
