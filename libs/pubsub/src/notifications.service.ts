import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@app/common';
import { realtimeConfig, RealtimeConfig } from '@app/config';
import { StoredNotification } from './client-events';
import { NotificationRepository } from './notification.repository';
import { parseStreamId } from './stream-id';

export const NOTIFICATIONS_DEFAULT_LIMIT = 100;
export const NOTIFICATIONS_MAX_LIMIT = 1000;
const REPLAY_PAGE = 250;

export interface MissedQuery {
  /** Replay every recorded event after this id; without it, the events after the user's disconnect cursor. */
  after?: string;
  /** Only `job_completed` (what a client that sends no lastEventId is owed). */
  onlyCompleted: boolean;
}

/** Reading the notification log: the catch-up of a (re)connecting socket and GET /notifications; the disconnect cursor. */
@Injectable()
export class NotificationsService {
  constructor(
    private readonly repository: NotificationRepository,
    @Inject(realtimeConfig.KEY) private readonly realtime: RealtimeConfig,
  ) {}

  /** Recorded events after `after` (exclusive, all of the replay window without it), oldest first. */
  async list(userId: string, query: { after?: string; limit?: number } = {}): Promise<StoredNotification[]> {
    const after = query.after === undefined ? undefined : parseStreamId(query.after);
    if (query.after !== undefined && after === undefined) {
      throw new DomainError('INVALID_ARGUMENT', 'after must be an event id like 1700000000000-0');
    }
    const limit = query.limit ?? NOTIFICATIONS_DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > NOTIFICATIONS_MAX_LIMIT) {
      throw new DomainError('INVALID_ARGUMENT', `limit must be an integer between 1 and ${NOTIFICATIONS_MAX_LIMIT}`);
    }
    return (await this.repository.readAfter(userId, after, limit)).events;
  }

  /**
   * What a connecting client missed, oldest first, and the id of the newest event looked at (also when
   * it was filtered out), so live events up to that id can be recognised as already handled.
   */
  async missed(userId: string, query: MissedQuery): Promise<{ events: StoredNotification[]; lastId?: string }> {
    let after = query.after ?? parseStreamId(await this.repository.cursor(userId));
    const events: StoredNotification[] = [];
    let lastId: string | undefined;
    // The log holds about maxEventsPerUser entries; the page bound only guards against a runaway loop.
    for (let pages = Math.ceil((this.realtime.maxEventsPerUser * 2) / REPLAY_PAGE) + 1; pages > 0; pages--) {
      const page = await this.repository.readAfter(userId, after, REPLAY_PAGE);
      events.push(...(query.onlyCompleted ? page.events.filter((event) => event.event === 'job_completed') : page.events));
      lastId = page.lastId ?? lastId;
      after = lastId;
      if (page.complete) break;
    }
    return { events, lastId };
  }

  /** Remembers that the user was sent everything up to `id`; a later connection without lastEventId resumes after it. */
  rememberDelivered(userId: string, id: string): Promise<void> {
    return this.repository.advanceCursor(userId, id);
  }
}
