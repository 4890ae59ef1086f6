import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createRedisClient, DomainError, FINISHED_STATUSES, JobStatus, RedisClient, RedisConnection } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';
import { BatchProgressRepository } from './batch/batch-progress.repository';
import { BatchRepository } from './batch/batch.repository';
import { JobFinisher } from './job-finisher.service';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobSlotsRepository } from './job-slots.repository';
import { JobQueue } from './job.queue';
import { JobRecord, JobRepository } from './job.repository';
import { JobOutcome } from './job.types';

export interface CancelledJob {
  jobId: string;
  status: 'cancelled';
}

export interface DeletedJob {
  id: string;
}

/** Jobs read and deleted per round of an account's deletion. */
const ERASE_BATCH_SIZE = 200;
/** Cancels sent at once. */
const ERASE_CONCURRENCY = 10;
const STOP_POLL_MS = 100;

/** The channel every worker listens on for cancels: a plain PUBLISH reaches every subscriber, on a Redis Cluster too. */
export function jobCancelChannel(prefix: string): string {
  return `${prefix}:job-cancel`;
}

/**
 * Cancel signals from the API to the worker holding a job. Best-effort by design: a worker that misses
 * one (its subscriber was reconnecting) still finds the cancel kept in the ledger when its call ends,
 * so the cancel holds; only the call's cost is not cut short.
 */
@Injectable()
export class JobCancelSignals implements OnApplicationShutdown {
  private readonly logger = new Logger(JobCancelSignals.name);
  private subscriber?: RedisClient;

  constructor(
    @Inject(RedisConnection) private readonly redis: RedisConnection,
    @Inject(redisConfig.KEY) private readonly config: RedisConfig,
  ) {}

  /** Tells every worker to stop the job's delivery if it holds it. */
  async send(jobId: string): Promise<void> {
    await this.redis.publish(this.channel, jobId);
  }

  /**
   * Calls `onCancel` with the jobId of every cancel sent from now on (the worker only). The connection
   * waits for Redis and subscribes again after an outage; resolves once Redis confirmed the subscription.
   */
  async listen(onCancel: (jobId: string) => void): Promise<void> {
    if (this.subscriber) throw new Error('JobCancelSignals already has a listener');
    const subscriber = createRedisClient(this.config, `job-cancel:${this.config.prefix}`, { enableOfflineQueue: true, autoResubscribe: true, maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, jobId: string) => {
      if (channel === this.channel) onCancel(jobId);
    });
    await subscriber.subscribe(this.channel).catch((error: Error) => this.logger.error(`Could not subscribe to cancel signals: ${error.message}`));
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }

  private get channel(): string {
    return jobCancelChannel(this.config.prefix);
  }
}

/**
 * Commands of the job's owner that end it early: cancel (it never runs, or its provider call is aborted
 * wherever its worker runs) and delete. The ledger's exclusive cancel decides against a completion or a
 * failure arriving at the same moment: the first outcome holds, on every database.
 */
@Injectable()
export class JobCancellation {
  private readonly logger = new Logger(JobCancellation.name);

  constructor(
    private readonly jobs: JobRepository,
    private readonly ledger: JobLedgerRepository,
    private readonly queue: JobQueue,
    private readonly finisher: JobFinisher,
    private readonly signals: JobCancelSignals,
    private readonly batches: BatchRepository,
    private readonly batchProgress: BatchProgressRepository,
    private readonly slots: JobSlotsRepository,
  ) {}

  /**
   * Command: cancels a queued or processing job: its slot is freed, its usage so far kept, `job_status`
   * `cancelled` sent once. A job that had finished before (completed, failed, cancelled) is a conflict
   * with `currentStatus`; a cancel repeated while the first is still being stored answers like the first.
   */
  async cancel(userId: string, jobId: string): Promise<CancelledJob> {
    const job = await this.findOwned(userId, jobId);
    if (isFinished(job.status)) throw alreadyFinished(job.status);
    const outcome = await this.cancelUnfinished(jobId, job.correlationId);
    if (outcome.status !== 'cancelled') throw alreadyFinished(outcome.status);
    return { jobId, status: 'cancelled' };
  }

  /**
   * Command: deletes the job's record (cancelling it first if unfinished), its BullMQ entry and its
   * ledger. Library items saved from it are documents of their own and stay.
   */
  async delete(userId: string, jobId: string): Promise<DeletedJob> {
    const job = await this.findOwned(userId, jobId);
    // Whatever outcome holds (the cancel, or an answer that came first) is brought home: its slot freed, its user told.
    if (!isFinished(job.status)) await this.cancelUnfinished(jobId, job.correlationId);
    await this.jobs.delete(jobId);
    // A delivery still stopping keeps its (locked) entry until it ends; BullMQ trims it later with the finished ones.
    await this.queue.removeJobs([jobId]);
    await this.ledger.forget([jobId]);
    this.logger.log({ msg: 'job deleted', jobId, correlationId: job.correlationId });
    return { id: jobId };
  }

  /**
   * Command (an account's deletion): cancels every unfinished job of the user, waits until no worker holds
   * one (the cancel signal aborts its provider call within milliseconds), then deletes the records, their
   * BullMQ entries and their ledgers, batch by batch until none is left. Idempotent: a repeat after an
   * outage finishes the rest. DEPENDENCY_UNAVAILABLE when a worker did not let go within `stopTimeoutMs`.
   */
  async deleteAllOf(userId: string, stopTimeoutMs = 15_000): Promise<number> {
    let deleted = 0;
    for (;;) {
      const jobs = await this.jobs.listOwnedIds(userId, ERASE_BATCH_SIZE);
      if (jobs.length === 0) return deleted;
      const open = jobs.filter((job) => !isFinished(job.status));
      for (let start = 0; start < open.length; start += ERASE_CONCURRENCY) {
        await Promise.all(open.slice(start, start + ERASE_CONCURRENCY).map((job) => this.cancelUnfinished(job.jobId, job.correlationId)));
      }
      const jobIds = jobs.map((job) => job.jobId);
      // An active entry is locked: its worker must end it (with the cancel) before it can be removed.
      await this.waitUntilReleased(jobIds, stopTimeoutMs);
      await this.jobs.deleteMany(jobIds);
      await this.queue.removeJobs(jobIds);
      await this.ledger.forget(jobIds);
      deleted += jobIds.length;
      this.logger.log({ msg: 'jobs of a deleted account removed', userId, jobs: jobIds.length });
    }
  }

  /**
   * Command (an account's deletion, after deleteAllOf): the user's batch records, their progress in Redis, and
   * the user's slots, normal and batch, with their entry in the set of slot holders. Idempotent.
   */
  async deleteBatchesOf(userId: string): Promise<number> {
    const batchIds = await this.batches.idsOf(userId);
    for (const batchId of batchIds) await this.batchProgress.forget(batchId);
    await this.batches.deleteMany(batchIds);
    await this.slots.forgetUser(userId);
    return batchIds.length;
  }

  private async waitUntilReleased(jobIds: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let held = jobIds;
    for (;;) {
      const states = await Promise.all(held.map((jobId) => this.queue.stateOf(jobId)));
      held = held.filter((_, index) => states[index] === 'active');
      if (held.length === 0) return;
      if (Date.now() >= deadline) throw new DomainError('DEPENDENCY_UNAVAILABLE', `${held.length} job(s) are still stopping; repeat the request`);
      await sleep(STOP_POLL_MS);
    }
  }

  /**
   * Keeps the cancel in the ledger (unless another outcome came first), stops the job wherever it is, and
   * brings the outcome that holds home. Each step may be repeated: a cancel that failed half-way (Redis or
   * the database went away) is finished by the next request, a worker's delivery, or the reconciler.
   */
  private async cancelUnfinished(jobId: string, correlationId: string): Promise<JobOutcome> {
    const outcome = await this.ledger.settleCancelled(jobId);
    if (outcome.status === 'cancelled') {
      // The signal first: the provider call stops as soon as possible; the worker then ends with the cancel too.
      await this.signals.send(jobId);
      // A waiting or delayed entry goes, so no worker ever starts it; an active (locked) one is left to its worker.
      await this.queue.removeJobs([jobId]);
      this.logger.log({ msg: 'job cancelled', jobId, correlationId });
    }
    await this.finisher.finish(jobId, outcome);
    return outcome;
  }

  /** The record with its correlation id (for the logs), by _id alone; another user's job looks missing. */
  private async findOwned(userId: string, jobId: string): Promise<JobRecord> {
    const job = await this.jobs.findByJobId(jobId);
    if (!job || job.userId !== userId) throw new DomainError('JOB_NOT_FOUND', 'Job not found');
    return job;
  }
}

function isFinished(status: JobStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}

function alreadyFinished(currentStatus: JobStatus): DomainError {
  return new DomainError('JOB_FINISHED', `Job is ${currentStatus}; only queued or processing jobs can be cancelled`, { currentStatus });
}
