import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { RedisConnection } from '@app/common';
import { generationConfig, GenerationConfig, redisConfig, RedisConfig } from '@app/config';
import { inProducerSpan } from '@app/tracing';
import { GENERATION_QUEUE, JobPayloadMap } from './job.types';

const ADD_TIMEOUT_MS = 2000;
/** BullMQ's highest priority number. */
const MAX_PRIORITY = 2_097_152;

/**
 * The only place that adds BullMQ jobs; the BullMQ id is our jobId, so a job is queued once. It rides
 * on the request-path Redis connection (no offline queue), so an add with Redis down fails fast.
 */
@Injectable()
export class JobQueue implements OnApplicationShutdown {
  private readonly queue: Queue;

  constructor(
    @Inject(RedisConnection) redis: RedisConnection,
    @Inject(redisConfig.KEY) redisSettings: RedisConfig,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {
    this.queue = new Queue(GENERATION_QUEUE, { connection: redis, prefix: redisSettings.prefix });
    const logger = new Logger(JobQueue.name);
    this.queue.on('error', (error: Error) => logger.debug(`Queue connection: ${error.message}`));
  }

  /**
   * Queues the job with the current trace context in its payload, so the worker's span joins the request's
   * trace. `place` is the job's place among its owner's unfinished jobs and becomes its BullMQ priority
   * (lower runs first; FIFO within one): a user's first job waits behind no one's fifth, so one user with
   * many jobs cannot starve the others under the global rate limit.
   */
  async addGeneration(payload: JobPayloadMap['generate'], delayMs: number, place = 1): Promise<void> {
    await inProducerSpan({ queue: GENERATION_QUEUE, jobId: payload.jobId, correlationId: payload.correlationId }, (carrier) => this.add({ ...payload, ...carrier }, delayMs, place));
  }

  /**
   * Queues a batch's jobs in one atomic call (all or none), each with its own priority, under one
   * producer span whose trace context every job carries.
   */
  async addGenerations(jobs: { payload: JobPayloadMap['generate']; place: number }[], delayMs: number): Promise<void> {
    if (jobs.length === 0) return;
    const first = jobs[0].payload;
    await inProducerSpan({ queue: GENERATION_QUEUE, jobId: first.jobId, correlationId: first.correlationId }, async (carrier) => {
      const added = this.queue.addBulk(jobs.map(({ payload, place }) => ({ name: 'generate' as const, data: { ...payload, ...carrier }, opts: this.optionsFor(payload.jobId, delayMs, place) })));
      await Promise.race([added, sleep(ADD_TIMEOUT_MS).then(() => Promise.reject(new Error('Queue did not answer in time')))]);
    });
  }

  private async add(payload: JobPayloadMap['generate'], delayMs: number, place: number): Promise<void> {
    const added = this.queue.add('generate', payload, this.optionsFor(payload.jobId, delayMs, place));
    // BullMQ waits for a first connection indefinitely; the caller must hear "unavailable" instead. Should
    // the add still land later, the worker finds no record for it and drops it.
    await Promise.race([added, sleep(ADD_TIMEOUT_MS).then(() => Promise.reject(new Error('Queue did not answer in time')))]);
  }

  private optionsFor(jobId: string, delayMs: number, place: number): JobsOptions {
    return {
      jobId,
      delay: delayMs,
      // Every job carries one: BullMQ runs jobs without a priority before all prioritized ones.
      priority: Math.min(Math.max(place, 1), MAX_PRIORITY),
      attempts: this.config.attempts,
      backoff: { type: 'exponential', delay: this.config.backoffMs },
      // MongoDB is the record; BullMQ keeps finished jobs briefly for inspection, trimmed by age and count as others finish.
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
    };
  }

  /** BullMQ's state of the job: waiting, delayed, active, completed, failed, ... or unknown when it has none. */
  async stateOf(jobId: string): Promise<string> {
    return this.queue.getJobState(jobId);
  }

  /** Why BullMQ failed the job, and how often its worker stopped on it. */
  async failure(jobId: string): Promise<{ reason: string; stalled: number } | undefined> {
    const job = await this.queue.getJob(jobId);
    return job ? { reason: job.failedReason ?? '', stalled: job.stalledCounter ?? 0 } : undefined;
  }

  /** How many jobs BullMQ holds in each state. */
  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'waiting-children', 'completed', 'failed');
  }

  /** Workers connected to the queue now (BullMQ names their Redis connections). */
  async workerCount(): Promise<number> {
    return (await this.queue.getWorkers()).length;
  }

  /** Queues a job again that BullMQ lost or finished without a record outcome (first in line: it waited already); its old BullMQ entry goes first. */
  async requeue(payload: JobPayloadMap['generate']): Promise<void> {
    await this.queue.remove(payload.jobId);
    await this.addGeneration(payload, 0);
  }

  /** Removes what BullMQ still holds of these jobs (their records are deleted); returns how many it removed. */
  async removeJobs(jobIds: string[]): Promise<number> {
    // A locked (active) job is left alone (0): its worker finds no record and drops it.
    const codes = await Promise.all(jobIds.map((jobId) => this.queue.remove(jobId)));
    return codes.filter((code) => code === 1).length;
  }

  async onApplicationShutdown(): Promise<void> {
    // The connection is shared (RedisModule closes it), so this only releases BullMQ's listeners.
    await this.queue.close().catch(() => undefined);
  }
}
