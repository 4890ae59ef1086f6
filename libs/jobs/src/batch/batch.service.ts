import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import { DomainError, invalidArgument, isDependencyDown } from '@app/common';
import { generationConfig, GenerationConfig } from '@app/config';
import type { BatchCounts } from '@app/pubsub';
import { activeTraceId } from '@app/tracing';
import { GenerateContentDto } from '../dto/generate-content.dto';
import { checkedIdempotencyKey, idempotencyConflict, IdempotencyClaim, IdempotencyRepository, replayed } from '../idempotency.repository';
import { JobCancellation } from '../job-cancellation.service';
import { JobQueue } from '../job.queue';
import { JobRepository } from '../job.repository';
import { JobSlotsRepository } from '../job-slots.repository';
import { JobRateLimits } from '../limits/job-rate-limits.service';
import { fingerprintOf, JobSpec, JobSpecs } from '../job-spec';
import { JobView, UNFINISHED_STATUSES } from '../job.types';
import { BatchExportRow, toCsv, toExportRow } from './batch-export';
import { BatchProgressRepository } from './batch-progress.repository';
import { BatchRecord, BatchRepository } from './batch.repository';
import { parseBatchCsv } from './csv-batch';

/** Batches GET /batches lists, newest first. */
const LIST_LIMIT = 100;
/** Details a 400 lists at most (one per bad field). */
const MAX_DETAILS = 20;
/** Cancels run a few at a time: each is a few Redis and database calls. */
const CANCEL_CONCURRENCY = 5;

/** A batch body: JSON `{ items: [...] }` or the text of a CSV. */
export type BatchInput = { json: unknown } | { csv: string };

export interface CreateBatchCommand {
  userId: string;
  input: BatchInput;
  idempotencyKey?: string;
  correlationId?: string;
}

export interface CreatedBatch {
  batchId: string;
  jobs: { index: number; jobId: string }[];
}

export interface BatchSummary {
  batchId: string;
  total: number;
  createdAt: Date;
  counts: BatchCounts;
  /** The batch's jobs by item index (GET /batches/:batchId has the whole jobs). */
  jobs: BatchJobRef[];
}

export interface BatchJobRef {
  index: number;
  jobId: string;
}

export interface BatchDetail extends Omit<BatchSummary, 'jobs'> {
  jobs: JobView[];
}

export interface CancelledBatch {
  batchId: string;
  /** Jobs this request cancelled (the others had ended already). */
  cancelled: number;
  counts: BatchCounts;
}

export interface BatchExport {
  filename: string;
  contentType: string;
  body: string;
}

interface Detail {
  field: string;
  errors: string[];
  line?: number;
}

/**
 * Batches of generation jobs (POST /generate-content/batch): all items are checked before anything is
 * taken, then the Idempotency-Key, the user's rate windows (each item counts; all or none), batch slots for every job (MAX_BATCH_JOBS_PER_USER, all or none),
 * the records and one atomic queue add; a failure on the way undoes all of it. Each job's priority is its
 * place among its owner's unfinished jobs, so a batch is served in turn with other users' jobs.
 */
@Injectable()
export class BatchService {
  private readonly logger = new Logger(BatchService.name);

  constructor(
    private readonly batches: BatchRepository,
    private readonly progress: BatchProgressRepository,
    private readonly jobs: JobRepository,
    private readonly slots: JobSlotsRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly queue: JobQueue,
    private readonly specs: JobSpecs,
    private readonly cancellation: JobCancellation,
    private readonly rateLimits: JobRateLimits,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {}

  /**
   * Command: queues every item as a job of one batch, or none. A bad item is a 400 whose details name it
   * `items[<0-based index>].<field>` (for a CSV, the data row's index, with its `line`).
   */
  async create(command: CreateBatchCommand): Promise<CreatedBatch> {
    const key = checkedIdempotencyKey(command.idempotencyKey);
    const specs = await this.resolveAll(command.userId, command.input);
    const batchId = randomUUID();
    const jobIds = specs.map(() => randomUUID());
    const claim: IdempotencyClaim = { jobId: batchId, fingerprint: batchFingerprint(specs) };
    // `batch/` cannot occur in a client's key: a batch's claims never meet single jobs' ones.
    const claimKey = key && `batch/${key}`;
    if (claimKey) {
      const earlier = await this.idempotency.claim(command.userId, claimKey, claim);
      if (earlier) return this.replayClaim(command.userId, claim, earlier);
    }
    // Gives back the window entries and the key: nothing of this request was queued.
    const undoClaim = async () => {
      await this.rateLimits.refund(command.userId, batchId, specs.length);
      if (claimKey) await this.idempotency.release(command.userId, claimKey, claim);
    };
    const releaseSlots = async () => {
      for (const jobId of jobIds) await this.slots.release(command.userId, jobId);
    };

    let places: number[] | undefined;
    try {
      await this.rateLimits.admit(command.userId, batchId, specs.length);
      places = await this.slots.acquireBatch(command.userId, jobIds, this.config.maxBatchJobsPerUser);
    } catch (error) {
      await undoClaim().catch(() => undefined);
      throw error;
    }
    if (!places) {
      await undoClaim().catch(() => undefined);
      const cap = this.config.maxBatchJobsPerUser;
      throw new DomainError('TOO_MANY_ACTIVE_JOBS', `A batch of ${specs.length} would take you past ${cap} unfinished batch jobs (MAX_BATCH_JOBS_PER_USER); wait for some to finish`, {
        limit: cap,
        cap: 'MAX_BATCH_JOBS_PER_USER',
      });
    }

    const correlationId = command.correlationId ?? batchId;
    const batch: BatchRecord = { batchId, userId: command.userId, total: specs.length, jobIds, fingerprint: claim.fingerprint, correlationId, createdAt: new Date() };
    const undo = async () => {
      await this.removeRecords(jobIds);
      await this.batches.delete(batchId).catch(() => undefined);
      await this.progress.forget(batchId).catch(() => undefined);
      await releaseSlots().catch(() => undefined);
      await undoClaim().catch(() => undefined);
    };
    try {
      await this.progress.start(batchId, command.userId, jobIds);
      const created = await this.batches.create({ ...batch, idempotencyKey: key ? `${command.userId}:${key}` : `none:${batchId}` });
      if (!created) {
        // The unique index caught a key whose Redis claim had expired: answer with the batch it created.
        await undo();
        const existing = await this.batches.findByIdempotencyKey(`${command.userId}:${key}`);
        if (!existing) throw new DomainError('DEPENDENCY_UNAVAILABLE', 'Could not record the batch, try again shortly');
        if (existing.fingerprint !== claim.fingerprint) throw idempotencyConflict();
        return createdBatch(existing);
      }
      const scheduledFor = new Date(Date.now() + this.config.delayMs);
      const traceId = activeTraceId();
      // Settled, not raced: undo must not delete while an insert is still on its way (it would land after).
      const inserts = await Promise.allSettled(
        specs.map((spec, index) =>
          this.jobs.create({ jobId: jobIds[index], userId: command.userId, ...spec, scheduledFor, correlationId, traceId, idempotencyKey: `none:${jobIds[index]}`, batchId, batchIndex: index }),
        ),
      );
      const failed = inserts.find((insert): insert is PromiseRejectedResult => insert.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (error) {
      await undo().catch(() => undefined);
      if (error instanceof DomainError) throw error;
      throw isDependencyDown(error) ? new DomainError('DEPENDENCY_UNAVAILABLE', 'Could not record the batch, try again shortly') : error;
    }

    try {
      await this.queue.addGenerations(
        jobIds.map((jobId, index) => ({ payload: { jobId, userId: command.userId, correlationId }, place: places[index] })),
        this.config.delayMs,
      );
    } catch (error) {
      this.logger.warn(`Queue refused batch ${batchId} (${(error as Error).message}); removing its records`);
      await undo().catch(() => undefined);
      throw new DomainError('DEPENDENCY_UNAVAILABLE', 'The job queue is unavailable, try again shortly');
    }
    this.logger.log({ msg: 'batch queued', batchId, jobs: jobIds.length, correlationId });
    return createdBatch(batch);
  }

  /** Query: the caller's batches, newest first (up to 100), with their counts. */
  async list(userId: string): Promise<BatchSummary[]> {
    const summaries: BatchSummary[] = [];
    // One batch at a time: a batch whose Redis counts expired is counted from its records (its jobs read by _id).
    for (const batch of await this.batches.listOwned(userId, LIST_LIMIT)) {
      const counts = (await this.progress.counts(batch.batchId).catch(() => undefined)) ?? countsOf(await this.batches.jobsOf(batch));
      summaries.push({ ...summaryOf(batch), counts, jobs: batch.jobIds.map((jobId, index) => ({ index, jobId })) });
    }
    return summaries;
  }

  /** Query: the caller's batch with its jobs in item order and counts from their records; another user's is 404. */
  async get(userId: string, batchId: string): Promise<BatchDetail> {
    const batch = await this.owned(userId, batchId);
    const jobs = await this.batches.jobsOf(batch);
    return { ...summaryOf(batch), counts: countsOf(jobs), jobs };
  }

  /** Command: cancels every unfinished job of the batch (each as POST /generate-content/:jobId/cancel would). */
  async cancel(userId: string, batchId: string): Promise<CancelledBatch> {
    const batch = await this.owned(userId, batchId);
    const open = (await this.batches.jobsOf(batch)).filter((job) => UNFINISHED_STATUSES.includes(job.status));
    let cancelled = 0;
    for (let start = 0; start < open.length; start += CANCEL_CONCURRENCY) {
      const results = await Promise.allSettled(open.slice(start, start + CANCEL_CONCURRENCY).map((job) => this.cancellation.cancel(userId, job.jobId)));
      for (const result of results) {
        if (result.status === 'fulfilled') cancelled++;
        // A job that ended meanwhile (JOB_FINISHED) or was deleted is fine; anything else is not.
        else if (!(result.reason instanceof DomainError)) throw result.reason;
      }
    }
    this.logger.log({ msg: 'batch cancelled', batchId, cancelled, correlationId: batch.correlationId });
    return { batchId, cancelled, counts: countsOf(await this.batches.jobsOf(batch)) };
  }

  /** Query: the batch's jobs as a CSV or JSON download. */
  async export(userId: string, batchId: string, format: 'csv' | 'json'): Promise<BatchExport> {
    const batch = await this.owned(userId, batchId);
    const rows: BatchExportRow[] = (await this.batches.jobsOf(batch)).map((job) => toExportRow(job, job.batchIndex ?? batch.jobIds.indexOf(job.jobId)));
    const filename = `batch-${batch.batchId.replace(/[^\w-]/g, '')}.${format}`;
    if (format === 'csv') return { filename, contentType: 'text/csv; charset=utf-8', body: toCsv(rows) };
    return { filename, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ batchId: batch.batchId, total: batch.total, jobs: rows }, null, 2) };
  }

  private async owned(userId: string, batchId: string): Promise<BatchRecord> {
    const batch = await this.batches.findOwned(userId, batchId);
    if (!batch) throw new DomainError('NOT_FOUND', 'Batch not found');
    return batch;
  }

  /** Every item checked (DTO rules, then the job spec: template, prompt length, options) before anything is taken. */
  private async resolveAll(userId: string, input: BatchInput): Promise<JobSpec[]> {
    const items = this.itemsOf(input);
    const details: Detail[] = [];
    const specs: JobSpec[] = [];
    for (const [index, { item, line }] of items.entries()) {
      const at = (field: string) => `items[${index}]${field ? `.${field}` : ''}`;
      const where = line === undefined ? {} : { line };
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        details.push({ field: at(''), errors: ['each item must be an object'], ...where });
        continue;
      }
      const dto = plainToInstance(GenerateContentDto, item);
      const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true, stopAtFirstError: true });
      if (errors.length > 0) {
        details.push(...flatten(errors).map((detail) => ({ field: at(detail.field), errors: detail.errors, ...where })));
        continue;
      }
      try {
        specs.push(await this.specs.resolve({ userId, prompt: dto.prompt, contentType: dto.contentType, templateId: dto.templateId, variables: dto.variables, options: dto.options }));
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        if (error.code === 'TEMPLATE_NOT_FOUND') details.push({ field: at('templateId'), errors: [error.message], ...where });
        else if (error.code === 'INVALID_ARGUMENT') {
          const own = (error.details?.details as Detail[] | undefined) ?? [{ field: '', errors: [error.message] }];
          details.push(...own.map((detail) => ({ ...detail, field: at(detail.field), ...where })));
        } else throw error;
      }
      if (details.length >= MAX_DETAILS) break;
    }
    if (details.length > 0) {
      const shown = details.slice(0, MAX_DETAILS);
      const message = shown.map((detail) => `${detail.field}${detail.line ? ` (line ${detail.line})` : ''}: ${detail.errors.join(', ')}`).join('; ');
      throw new DomainError('INVALID_ARGUMENT', `Nothing was queued: ${message}`, { details: shown });
    }
    return specs;
  }

  private itemsOf(input: BatchInput): { item: unknown; line?: number }[] {
    const max = this.config.maxBatchItems;
    if ('csv' in input) return parseBatchCsv(input.csv, max);
    const body = input.json;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidArgument('items', 'The body must be { items: [...] } (JSON) or a text/csv file');
    const unknown = Object.keys(body).filter((name) => name !== 'items');
    if (unknown.length > 0) throw invalidArgument(unknown[0], `property ${unknown[0]} should not exist`);
    const items = (body as { items?: unknown }).items;
    if (!Array.isArray(items) || items.length === 0) throw invalidArgument('items', `items must be an array of 1 to ${max} items`);
    if (items.length > max) throw invalidArgument('items', `A batch holds at most ${max} items; got ${items.length}`);
    return items.map((item) => ({ item }));
  }

  /** A retried request with a claimed key: the same body gets the first batch, a different one 422. */
  private async replayClaim(userId: string, mine: IdempotencyClaim, earlier: IdempotencyClaim): Promise<CreatedBatch> {
    return createdBatch(await replayed(mine, earlier, () => this.batches.findOwned(userId, earlier.jobId)));
  }

  /** Deletes the records of a batch that was not queued; should the database fail too, at least none stays queued forever. */
  private async removeRecords(jobIds: string[]): Promise<void> {
    const deleted = await Promise.allSettled(jobIds.map((jobId) => this.jobs.delete(jobId)));
    const kept = jobIds.filter((_, index) => deleted[index].status === 'rejected');
    await Promise.allSettled(kept.map((jobId) => this.jobs.markUnqueued(jobId, 'Could not be queued')));
  }
}

/** Identifies a batch body: its items' fingerprints in order. */
export function batchFingerprint(specs: JobSpec[]): string {
  return createHash('sha256').update(`batch\n${specs.map(fingerprintOf).join('\n')}`).digest('base64url').slice(0, 22);
}

function createdBatch(batch: BatchRecord): CreatedBatch {
  return { batchId: batch.batchId, jobs: batch.jobIds.map((jobId, index) => ({ index, jobId })) };
}

function summaryOf(batch: BatchRecord): Omit<BatchSummary, 'counts' | 'jobs'> {
  return { batchId: batch.batchId, total: batch.total, createdAt: batch.createdAt };
}

/** Counts from the job records (a deleted job counts nowhere). */
export function countsOf(jobs: JobView[]): BatchCounts {
  const counts: BatchCounts = { queued: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const job of jobs) counts[job.status]++;
  return counts;
}

/** The validation pipe's field names (`options.variants`), from class-validator's nested errors. */
function flatten(errors: ValidationError[], parent = ''): Detail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, errors: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
