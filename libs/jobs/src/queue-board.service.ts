import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DomainError, RedisConnection } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';
import { AdminJobsService } from './admin-jobs.service';
import { GENERATION_QUEUE, MAINTENANCE_QUEUE } from './job.types';

/**
 * The queues the admin queue board (Bull Board) shows, and the writes on the generation queue that must
 * go through the product rather than raw BullMQ: a raw retry would run a job whose ledger says it is done,
 * with no slot and a record still `failed`.
 */
@Injectable()
export class QueueBoardService implements OnApplicationShutdown {
  private readonly generation: Queue;
  private readonly maintenance: Queue;

  constructor(
    @Inject(RedisConnection) redis: RedisConnection,
    @Inject(redisConfig.KEY) redisSettings: RedisConfig,
    private readonly admin: AdminJobsService,
  ) {
    this.generation = new Queue(GENERATION_QUEUE, { connection: redis, prefix: redisSettings.prefix });
    this.maintenance = new Queue(MAINTENANCE_QUEUE, { connection: redis, prefix: redisSettings.prefix });
    const logger = new Logger(QueueBoardService.name);
    for (const queue of this.queues()) queue.on('error', (error: Error) => logger.debug(`Queue connection: ${error.message}`));
  }

  /** The generation queue first, then maintenance. */
  queues(): Queue[] {
    return [this.generation, this.maintenance];
  }

  /** Whether writes on this queue must go through the product (retryGeneration, retryAllFailedGenerations) or are refused. */
  isGuarded(queueName: string): boolean {
    return queueName === GENERATION_QUEUE;
  }

  /** A failed generation job queued again exactly as POST /admin/jobs/:jobId/retry does it (record, ledger, slot). */
  async retryGeneration(jobId: string): Promise<void> {
    await this.admin.retry(jobId);
  }

  /** Every failed generation job BullMQ holds, each through retryGeneration; those it refuses (not failed, owner at the cap) are skipped. */
  async retryAllFailedGenerations(): Promise<{ retried: number; skipped: number }> {
    const jobIds = await this.generation.getRanges(['failed'], 0, -1);
    let retried = 0;
    for (const jobId of new Set(jobIds)) {
      try {
        await this.admin.retry(jobId);
        retried++;
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
      }
    }
    return { retried, skipped: jobIds.length - retried };
  }

  async onApplicationShutdown(): Promise<void> {
    // The connection is shared (RedisModule closes it), so this only releases BullMQ's listeners.
    await Promise.all(this.queues().map((queue) => queue.close().catch(() => undefined)));
  }
}
