import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { RedisConnection } from '@app/common';
import { redisConfig, RedisConfig, webhooksConfig, WebhooksConfig } from '@app/config';
import { WebhookJobMap, WEBHOOKS_QUEUE } from './webhook.types';

const ADD_TIMEOUT_MS = 2000;
/** The backoff type BullMQ hands to the worker's custom strategy (webhookBackoff). */
export const WEBHOOK_BACKOFF_TYPE = 'webhook';
/**
 * Finished entries stay this long, so a repeated event (a retried finisher, minutes later) is still dropped by
 * its jobId; a fanned-out event keeps no body (the worker empties it). Failed ones stay longer, to be looked at.
 */
const KEEP = { removeOnComplete: { age: 24 * 3600, count: 10_000 }, removeOnFail: { age: 7 * 24 * 3600, count: 10_000 } };

/** Every state an entry may be in, and how many entries are read at a time when looking for a user's. */
const ENTRY_STATES = ['wait', 'prioritized', 'delayed', 'waiting-children', 'active', 'completed', 'failed'] as const;
const SCAN_PAGE = 500;

/** BullMQ ids may not hold ':' (event ids do), so ids are digests of what they stand for. */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 40);
}

export function eventJobId(eventId: string): string {
  return `evt-${digest(eventId)}`;
}

export function deliveryJobId(eventId: string, webhookId: string): string {
  return `dlv-${digest(eventId)}-${webhookId}`;
}

/**
 * The only place that adds jobs to the webhooks queue; every job id is derived from its event, so a
 * repeat is dropped. It rides on the request-path Redis connection (no offline queue): an add with
 * Redis down fails fast, and the caller's retry adds it again.
 */
@Injectable()
export class WebhookQueue implements OnApplicationShutdown {
  private readonly queue: Queue;

  constructor(
    @Inject(RedisConnection) redis: RedisConnection,
    @Inject(redisConfig.KEY) redisSettings: RedisConfig,
    @Inject(webhooksConfig.KEY) private readonly config: WebhooksConfig,
  ) {
    this.queue = new Queue(WEBHOOKS_QUEUE, { connection: redis, prefix: redisSettings.prefix });
    const logger = new Logger(WebhookQueue.name);
    this.queue.on('error', (error: Error) => logger.debug(`Queue connection: ${error.message}`));
  }

  /** One event to fan out; retried (a database outage) with BullMQ's exponential backoff. */
  async addEvent(payload: WebhookJobMap['event']): Promise<void> {
    await this.bounded(this.queue.add('event', payload, { jobId: eventJobId(payload.eventId), attempts: 10, backoff: { type: 'exponential', delay: 1000 }, ...KEEP }));
  }

  /**
   * One event to one endpoint: WEBHOOK_MAX_ATTEMPTS attempts (`attempts` overrides it: a test ping gets one),
   * waits chosen by the worker (backoff or Retry-After).
   */
  async addDelivery(payload: WebhookJobMap['deliver'], attempts = this.config.maxAttempts): Promise<void> {
    const jobId = deliveryJobId(payload.eventId, payload.webhookId);
    await this.bounded(this.queue.add('deliver', payload, { jobId, attempts, backoff: { type: WEBHOOK_BACKOFF_TYPE }, ...KEEP }));
  }

  /**
   * Removes every entry of the user's (events and deliveries, in any state) and returns how many went; the
   * ids of those still active (locked by a worker, which finishes them) are returned as `held`.
   */
  async removeEntriesOf(userId: string): Promise<{ removed: number; held: string[] }> {
    const ids: string[] = [];
    for (const state of ENTRY_STATES) {
      for (let start = 0; ; start += SCAN_PAGE) {
        const page = await this.queue.getJobs([state], start, start + SCAN_PAGE - 1, true);
        for (const job of page) if (job?.id && (job.data as { userId?: unknown } | undefined)?.userId === userId) ids.push(job.id);
        if (page.length < SCAN_PAGE) break;
      }
    }
    let removed = 0;
    const held: string[] = [];
    for (const id of new Set(ids)) {
      if ((await this.queue.remove(id)) === 1) removed++;
      else if ((await this.queue.getJobState(id)) === 'active') held.push(id);
    }
    return { removed, held };
  }

  // BullMQ waits for a first connection indefinitely; the caller must hear "unavailable" instead (isDependencyDown knows ETIMEDOUT).
  private async bounded(added: Promise<unknown>): Promise<void> {
    await Promise.race([added, sleep(ADD_TIMEOUT_MS).then(() => Promise.reject(new Error('Queue did not answer in time (ETIMEDOUT)')))]);
  }

  async onApplicationShutdown(): Promise<void> {
    // The connection is shared (RedisModule closes it), so this only releases BullMQ's listeners.
    await this.queue.close().catch(() => undefined);
  }
}
