import { Inject, Injectable, Logger } from '@nestjs/common';
import { isDependencyDown, sumUsage, TokenUsage } from '@app/common';
import { generationConfig, GenerationConfig, realtimeConfig, RealtimeConfig } from '@app/config';
import { LlmProvider } from '@app/llm';
import { MetricsService } from '@app/metrics';
import { DeltaBatcher, PubSubService } from '@app/pubsub';
import { ContentGenerator } from './content-generator';
import { ABORT_CANCELLED, decideFailure, FailureLimits, Verdict } from './failure-policy';
import { JobFinisher, onceKey } from './job-finisher.service';
import { Delivery, JobLedgerRepository } from './job-ledger.repository';
import { JobRecord, JobRepository } from './job.repository';
import { JobOutcome, JobPayloadMap, JobResult } from './job.types';

type GeneratePayload = JobPayloadMap['generate'];
const DONE: Verdict = { action: 'done' };
const RELEASE: Verdict = { action: 'release' };

/** How far one delivery got: what the ledger said when it began, the provider call it started, and what its finished calls cost. */
interface Progress {
  delivery?: Delivery;
  attempt?: number;
  usage: TokenUsage[];
}

export interface DeliveryOptions {
  /** Aborted when the worker shuts down, loses the job's lock or the user cancels; its reason says which (failure-policy.ts). */
  signal?: AbortSignal;
}

/**
 * One delivery of a generation job: claim it in the ledger, call the provider once, keep the answer,
 * store and announce it. Nothing here throws: every failure becomes a verdict that the processor
 * translates into BullMQ calls.
 */
@Injectable()
export class GenerationService {
  private readonly logger = new Logger(GenerationService.name);
  private readonly limits: FailureLimits;

  constructor(
    private readonly jobs: JobRepository,
    private readonly ledger: JobLedgerRepository,
    private readonly finisher: JobFinisher,
    private readonly llm: LlmProvider,
    private readonly generator: ContentGenerator,
    private readonly events: PubSubService,
    private readonly metrics: MetricsService,
    @Inject(realtimeConfig.KEY) private readonly realtime: RealtimeConfig,
    @Inject(generationConfig.KEY) config: GenerationConfig,
  ) {
    this.limits = { maxAttempts: config.attempts, backoffMs: config.backoffMs, outageMaxMs: config.outageMaxMs, outageBackoffMaxMs: config.outageBackoffMaxMs };
  }

  /** Runs one delivery; a job whose outcome an earlier delivery already decided is only brought home. */
  async deliver(payload: GeneratePayload, options: DeliveryOptions = {}): Promise<Verdict> {
    const progress: Progress = { usage: [] };
    try {
      const delivery = await this.ledger.begin(payload.jobId);
      progress.delivery = delivery;
      if (delivery.done) return DONE;
      if (delivery.outcome) return await this.bringHome(payload, delivery.outcome);
      return await this.generate(payload, progress, options.signal);
    } catch (error) {
      return this.onFailure(payload, error, progress, options.signal);
    }
  }

  /**
   * For a job BullMQ gave up on by itself (stalled too often, or an error that escaped a delivery): its
   * record must end too. An outcome already kept (a stored answer) wins over the failure.
   */
  async giveUp(payload: GeneratePayload, reason: string): Promise<void> {
    this.logger.error({ msg: 'job given up by the queue', jobId: payload.jobId, correlationId: payload.correlationId, reason });
    const { attempts } = await this.ledger.read(payload.jobId);
    const outcome = await this.ledger.settle(payload.jobId, { status: 'failed', error: reason, attempts });
    if (outcome) await this.finisher.finish(payload.jobId, outcome);
  }

  private async generate(payload: GeneratePayload, progress: Progress, signal?: AbortSignal): Promise<Verdict> {
    const delivery = progress.delivery!;
    const job = await this.jobs.markProcessing(payload.jobId, delivery.attempts + 1);
    if (!job) return this.recordAlreadyFinished(payload);
    const attempt = await this.ledger.startAttempt(job.jobId, delivery.delivery);
    // Stale, or an outcome is kept: a cancel that came in meanwhile is this delivery's to bring home.
    if (attempt === undefined) return this.endIfCancelled(payload, progress);
    // Not after the job's `cancelled` (a cancel racing this start): checked with the publish, in one Redis step.
    await this.events.publish('job_status', job.userId, { jobId: job.jobId, status: 'processing', attempt }, { correlationId: payload.correlationId, unless: onceKey(job, 'status:cancelled') });
    progress.attempt = attempt;
    this.logger.log({ msg: 'provider call', jobId: job.jobId, correlationId: payload.correlationId, attempt, delivery: delivery.delivery, provider: this.llm.name });
    const result = await this.callProvider(job, payload.correlationId, attempt, delivery.delivery, signal, (usage) => progress.usage.push(usage));

    const outcome = await this.ledger.settle(job.jobId, { status: 'completed', result, attempts: attempt }, delivery.delivery);
    // Another delivery owns the job now (this worker froze or lost its lock): it decides.
    if (!outcome) return RELEASE;
    // Cancelled while the answer arrived: the cancel holds, the answer's cost is kept.
    if (outcome.status === 'cancelled') return this.endCancelled(payload, outcome, result.usage);
    return this.bringHome(payload, outcome);
  }

  private async callProvider(
    job: JobRecord,
    correlationId: string,
    attempt: number,
    delivery: number,
    signal?: AbortSignal,
    onUsage?: (usage: TokenUsage) => void,
  ): Promise<JobResult> {
    const deltas = new DeltaBatcher({
      intervalMs: this.realtime.deltaIntervalMs,
      flush: (text, seq) => this.events.publish('job_delta', job.userId, { jobId: job.jobId, attempt, delivery, seq, text }, { correlationId }),
    });
    try {
      const result = await this.generator.generate(job, { correlationId, signal, onDelta: (text) => deltas.push(text), onUsage });
      this.metrics.generationFinished({ model: result.model, durationMs: result.durationMs, usage: result.usage });
      return result;
    } catch (error) {
      this.metrics.generationFailed(this.llm.model, error);
      throw error;
    } finally {
      // Deltas are best-effort (job_completed carries the full text): a failed one must not cost the generation.
      await deltas.close().catch(() => undefined);
    }
  }

  /** Stores and announces the decided outcome; a failure is the processor's cue to fail the BullMQ job. */
  private async bringHome(payload: GeneratePayload, outcome: JobOutcome): Promise<Verdict> {
    const job = await this.finisher.finish(payload.jobId, outcome);
    if (job?.status === 'completed') {
      this.logger.log({ msg: 'job completed', jobId: payload.jobId, correlationId: payload.correlationId, attempts: job.attempts, provider: job.provider, model: job.model, durationMs: job.durationMs });
    }
    return job?.status === 'failed' ? { action: 'fail', message: job.error ?? 'Content generation failed' } : DONE;
  }

  /**
   * The user cancelled the job this delivery was running: bring the cancel home (the API does too; every
   * step is idempotent) and keep what the finished provider calls cost on the record. BullMQ completes
   * the entry: no retry.
   */
  private async endCancelled(payload: GeneratePayload, outcome: JobOutcome | undefined, usage: TokenUsage | undefined): Promise<Verdict> {
    // No outcome: the job was deleted after its cancel, its ledger with it.
    const verdict = outcome ? await this.bringHome(payload, outcome) : DONE;
    if (outcome?.status === 'cancelled' && usage) {
      await this.jobs.recordCancelledUsage(payload.jobId, usage);
      // Its usage record and the owner's daily tokens too: the cancel was brought home before this usage was known.
      await this.finisher.recordCancelledUsage(payload.jobId, usage);
    }
    this.logger.log({ msg: 'delivery stopped: the job was cancelled', jobId: payload.jobId, correlationId: payload.correlationId, usage });
    return verdict;
  }

  /** A delivery that may no longer start its call: it ends the job if that is because of a cancel, else leaves the job to its owner. */
  private async endIfCancelled(payload: GeneratePayload, progress: Progress): Promise<Verdict> {
    const { outcome } = await this.ledger.read(payload.jobId);
    return outcome?.status === 'cancelled' ? this.endCancelled(payload, outcome, sumUsage(progress.usage)) : RELEASE;
  }

  /** No ledger outcome but a finished record (an older version stored it, or the ledger expired): make sure it was announced. */
  private async recordAlreadyFinished(payload: GeneratePayload): Promise<Verdict> {
    const job = await this.jobs.findByJobId(payload.jobId);
    // No record: the API removed it because queueing failed, and this add landed late.
    if (!job) return DONE;
    const outcome: JobOutcome =
      job.status === 'completed'
        ? { status: 'completed', attempts: job.attempts, result: { generatedContent: job.generatedContent ?? '', provider: job.provider ?? '', model: job.model ?? '', durationMs: job.durationMs ?? 0 } }
        : job.status === 'cancelled'
          ? { status: 'cancelled', attempts: job.attempts }
          : { status: 'failed', attempts: job.attempts, error: job.error ?? 'Content generation failed' };
    const kept = await this.ledger.settle(job.jobId, outcome);
    return kept ? this.bringHome(payload, kept) : DONE;
  }

  private async onFailure(payload: GeneratePayload, error: unknown, progress: Progress, signal?: AbortSignal): Promise<Verdict> {
    const { delivery } = progress;
    const blockedSince = isDependencyDown(error) ? await this.ledger.blockedSince(payload.jobId).catch(() => undefined) : undefined;
    const abortReason: unknown = signal?.aborted ? signal.reason : undefined;
    const verdict = decideFailure(error, { failures: delivery?.failures ?? 0, pauses: delivery?.pauses ?? 0, blockedSince, abortReason, now: Date.now() }, this.limits);
    this.logFailure(payload, error, verdict, delivery);
    try {
      // Only the cancel's own outcome makes this signal fire (the API keeps it before it sends the signal).
      if (abortReason === ABORT_CANCELLED) return await this.endCancelled(payload, (await this.ledger.read(payload.jobId)).outcome, sumUsage(progress.usage));
      return await this.apply(payload, verdict, progress);
    } catch (cause) {
      // Recording the verdict needs MongoDB or Redis too; whatever was kept stays kept, the next delivery goes on from there.
      if (isDependencyDown(cause)) return { action: 'defer', delayMs: this.limits.outageBackoffMaxMs, message: 'A dependency (MongoDB or Redis) is unavailable' };
      this.logger.error({ msg: 'could not record a failed delivery', jobId: payload.jobId, error: (cause as Error).message });
      return { action: 'retry', delayMs: this.limits.backoffMs, message: 'Content generation failed' };
    }
  }

  private async apply(payload: GeneratePayload, verdict: Verdict, { delivery, attempt }: Progress): Promise<Verdict> {
    if (!delivery?.delivery) return verdict.action === 'fail' ? this.failUnowned(payload, verdict.message) : verdict;
    switch (verdict.action) {
      case 'retry':
      case 'pause': {
        const counted = await this.ledger.countVerdict(payload.jobId, delivery.delivery, verdict.action === 'retry' ? 'failures' : 'pauses');
        if (counted === undefined) return RELEASE;
        const requeued = await this.jobs.markRetrying(payload.jobId, verdict.message).catch(() => undefined);
        if (requeued) await this.events.publish('job_status', requeued.userId, { jobId: payload.jobId, status: requeued.status, attempt: requeued.attempts }, { correlationId: payload.correlationId }).catch(() => undefined);
        return verdict;
      }
      case 'fail': {
        const outcome = await this.ledger.settle(payload.jobId, { status: 'failed', error: verdict.message, attempts: attempt ?? delivery.attempts }, delivery.delivery);
        return outcome ? this.bringHome(payload, outcome) : RELEASE;
      }
      default:
        return verdict;
    }
  }

  /** A final failure before the delivery could claim the job (the ledger was unreachable past the outage bound). */
  private async failUnowned(payload: GeneratePayload, message: string): Promise<Verdict> {
    const { attempts } = await this.ledger.read(payload.jobId);
    const outcome = await this.ledger.settle(payload.jobId, { status: 'failed', error: message, attempts });
    return outcome ? this.bringHome(payload, outcome) : RELEASE;
  }

  private logFailure(payload: GeneratePayload, error: unknown, verdict: Verdict, delivery: Delivery | undefined): void {
    const entry = { jobId: payload.jobId, correlationId: payload.correlationId, delivery: delivery?.delivery, action: verdict.action, error: (error as Error)?.message ?? String(error) };
    if (verdict.action === 'fail') this.logger.warn({ msg: 'job failed', ...entry });
    else if (verdict.action === 'release' || verdict.action === 'hand-back') this.logger.warn({ msg: 'delivery stopped', ...entry });
    else if (verdict.action !== 'done') this.logger.warn({ msg: 'delivery failed', ...entry, delayMs: verdict.delayMs });
  }
}
