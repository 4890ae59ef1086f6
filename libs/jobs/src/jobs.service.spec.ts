jest.mock('node:timers/promises', () => ({ setTimeout: jest.fn(() => Promise.resolve()) }));

import { setTimeout as sleep } from 'node:timers/promises';
import { ContentType, DomainError } from '@app/common';
import { GenerationConfig, MongoConfig, OpenRouterConfig } from '@app/config';
import { TemplatesService } from '@app/templates';
import { ContentItem, ContentService } from '@app/content';
import { outageStub, strictMock } from '@app/testing';
import { IdempotencyClaim, IdempotencyRepository } from './idempotency.repository';
import { JobSlotsRepository } from './job-slots.repository';
import { JobSpecs } from './job-spec';
import { JobQueue } from './job.queue';
import { JobRepository } from './job.repository';
import { JobView } from './job.types';
import { EnqueueCommand, JobsService } from './jobs.service';
import { JobRateLimits } from './limits/job-rate-limits.service';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const DELAY_MS = 60_000;
const CAP = 3;
const GRACE_MS = 120_000;
const userId = '64b7f0c2a1b2c3d4e5f60718';
const command: EnqueueCommand & { prompt: string; contentType: ContentType } = { userId, prompt: 'A launch post for a solar backpack', contentType: 'Blog Post Outline', correlationId: 'corr-1' };
const keyed: EnqueueCommand = { ...command, idempotencyKey: 'order-42' };
const base: JobView = {
  _id: 'record-1',
  jobId: 'job-1',
  userId,
  prompt: command.prompt,
  contentType: command.contentType,
  status: 'queued',
  scheduledFor: new Date(NOW + DELAY_MS),
  createdAt: new Date(NOW),
  updatedAt: new Date(NOW),
  attempts: 0,
};
const jobStub = {
  queued: base,
  processing: { ...base, status: 'processing', attempts: 1 } as JobView,
  completed: { ...base, status: 'completed', attempts: 1, generatedContent: 'Ten ideas for the launch', provider: 'openrouter', model: 'openai/gpt-4o-mini', usage: { promptTokens: 12, completionTokens: 80, totalTokens: 92 } } as JobView,
};
const contentStub = { _id: 'content-1', userId, title: 'Generated: A launch post for a solar backpack...', type: 'Blog Post Outline', body: 'Ten ideas for the launch' } as ContentItem;
const accepted = {
  message: 'Content generation job queued',
  jobId: 'job-1',
  status: 'queued',
  delaySeconds: 60,
  scheduledFor: new Date(NOW + DELAY_MS),
  estimatedCompletionTime: new Date(NOW + DELAY_MS + 15_000),
};

/** Matches a DomainError by its code and message (toEqual on errors compares messages only). */
function domainError(code: string, message: string | RegExp, extra: object = {}) {
  return { name: 'DomainError', code, message, ...extra };
}

describe(JobsService.name, () => {
  let sut: JobsService;
  let jobs: jest.Mocked<JobRepository>;
  let slots: jest.Mocked<JobSlotsRepository>;
  let idempotency: jest.Mocked<IdempotencyRepository>;
  let queue: jest.Mocked<JobQueue>;
  let content: jest.Mocked<ContentService>;
  let templates: jest.Mocked<TemplatesService>;
  let rateLimits: jest.Mocked<JobRateLimits>;
  const config = { delayMs: DELAY_MS, maxActiveJobsPerUser: CAP, reconcileGraceMs: GRACE_MS, maxPromptLength: 10_000 } as GenerationConfig;

  beforeEach(() => {
    jobs = strictMock(JobRepository);
    slots = strictMock(JobSlotsRepository);
    idempotency = strictMock(IdempotencyRepository);
    queue = strictMock(JobQueue);
    content = strictMock(ContentService);
    templates = strictMock(TemplatesService);
    const specs = new JobSpecs(templates, config, { allowedModels: ['openai/gpt-4o-mini'] } as OpenRouterConfig);
    rateLimits = strictMock(JobRateLimits);
    rateLimits.admit.mockResolvedValue();
    rateLimits.refund.mockResolvedValue();
    sut = new JobsService(jobs, slots, idempotency, queue, content, specs, rateLimits, config, { listMaxItems: 10_000 } as MongoConfig);
    jest.spyOn(Date, 'now').mockReturnValue(NOW);
    jest.mocked(sleep).mockClear();
  });
  afterEach(() => jest.restoreAllMocks());

  /** The job id the service generated, as it reached the repository. */
  const createdJobId = () => jobs.create.mock.calls[0][0].jobId;
  const recording = (job: JobView = jobStub.queued) => jobs.create.mockImplementation(async (fields) => ({ ...job, jobId: fields.jobId }));
  const slotFree = () => slots.acquire.mockResolvedValue(1);

  describe('enqueue', () => {
    it('takes a slot, writes the record, then queues it with the configured delay', async () => {
      slotFree();
      recording();
      queue.addGeneration.mockResolvedValue();

      const result = await sut.enqueue(command);

      const jobId = createdJobId();
      expect(result).toEqual({ ...accepted, jobId });
      expect(slots.acquire).toHaveBeenCalledWith(userId, jobId, CAP);
      expect(jobs.create).toHaveBeenCalledWith({
        jobId,
        userId,
        prompt: command.prompt,
        contentType: command.contentType,
        scheduledFor: new Date(NOW + DELAY_MS),
        correlationId: 'corr-1',
        idempotencyKey: `none:${jobId}`,
      });
      expect(queue.addGeneration).toHaveBeenCalledWith({ jobId, userId, correlationId: 'corr-1' }, DELAY_MS, 1);
      expect(slots.acquire.mock.invocationCallOrder[0]).toBeLessThan(jobs.create.mock.invocationCallOrder[0]);
      expect(jobs.create.mock.invocationCallOrder[0]).toBeLessThan(queue.addGeneration.mock.invocationCallOrder[0]);
      expect(rateLimits.admit).toHaveBeenCalledWith(userId, jobId, 1);
      expect(rateLimits.admit.mock.invocationCallOrder[0]).toBeLessThan(slots.acquire.mock.invocationCallOrder[0]);
      expect(rateLimits.refund).not.toHaveBeenCalled();
    });

    it('answers RATE_LIMITED past the user\'s window, taking no slot and freeing the key', async () => {
      const refused = new DomainError('RATE_LIMITED', 'You may queue at most 10 jobs per minute (USER_JOBS_PER_MINUTE); try again in 42 s', { retryAfterSeconds: 42 });
      rateLimits.admit.mockRejectedValue(refused);
      idempotency.claim.mockResolvedValue(undefined);
      idempotency.release.mockResolvedValue();
      slots.release.mockResolvedValue();

      await expect(sut.enqueue(keyed)).rejects.toBe(refused);

      expect(slots.acquire).not.toHaveBeenCalled();
      expect(jobs.create).not.toHaveBeenCalled();
      expect(idempotency.release).toHaveBeenCalledWith(userId, 'order-42', { jobId: expect.any(String), fingerprint: expect.any(String) });
    });

    it('takes nothing of the window for a request that fails validation', async () => {
      await expect(sut.enqueue({ ...command, prompt: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

      expect(rateLimits.admit).not.toHaveBeenCalled();
    });

    it('uses the job id as correlation id when the request has none', async () => {
      slotFree();
      recording();
      queue.addGeneration.mockResolvedValue();

      await sut.enqueue({ ...command, correlationId: undefined });

      const jobId = createdJobId();
      expect(queue.addGeneration).toHaveBeenCalledWith({ jobId, userId, correlationId: jobId }, DELAY_MS, 1);
    });

    it('refuses a malformed Idempotency-Key before touching anything', async () => {
      await expect(sut.enqueue({ ...command, idempotencyKey: 'has spaces' })).rejects.toMatchObject(
        domainError('INVALID_ARGUMENT', 'Idempotency-Key must be 1-128 letters, digits or ._:-', { details: { details: [{ field: 'Idempotency-Key', errors: ['must be 1-128 letters, digits or ._:-'] }] } }),
      );
    });

    describe('with an Idempotency-Key', () => {
      /** What the first request with the key claimed: a repeat of it has the same fingerprint. */
      let firstClaim: IdempotencyClaim;

      beforeEach(() => {
        // The key is free the first time it is claimed.
        idempotency.claim.mockResolvedValueOnce(undefined);
      });
      /** A first, successful request with the key; the fingerprint it claimed is the service's own hash. */
      const firstRequest = async () => {
        slotFree();
        recording();
        queue.addGeneration.mockResolvedValue();
        await sut.enqueue(keyed);
        firstClaim = idempotency.claim.mock.calls[0][2];
        jobs.create.mockClear();
      };

      it('claims the key first and records it on the job as <user>:<key>', async () => {
        slotFree();
        recording();
        queue.addGeneration.mockResolvedValue();

        await sut.enqueue(keyed);

        const jobId = createdJobId();
        expect(idempotency.claim).toHaveBeenCalledWith(userId, 'order-42', { jobId, fingerprint: expect.any(String) });
        expect(jobs.create).toHaveBeenCalledWith(expect.objectContaining({ idempotencyKey: `${userId}:order-42` }));
      });

      it('answers a repeated request with the first job, taking no slot', async () => {
        await firstRequest();
        idempotency.claim.mockResolvedValue(firstClaim);
        jobs.findOwned.mockResolvedValue({ ...jobStub.queued, jobId: firstClaim.jobId });
        slots.acquire.mockClear();

        expect(await sut.enqueue(keyed)).toEqual({ ...accepted, jobId: firstClaim.jobId });
        expect(jobs.findOwned).toHaveBeenCalledWith(userId, firstClaim.jobId);
        expect(slots.acquire).not.toHaveBeenCalled();
      });

      it('waits for the first request to write its record, polling every 100 ms', async () => {
        await firstRequest();
        idempotency.claim.mockResolvedValue(firstClaim);
        jobs.findOwned.mockResolvedValueOnce(undefined).mockResolvedValueOnce({ ...jobStub.queued, jobId: firstClaim.jobId });

        expect(await sut.enqueue(keyed)).toEqual({ ...accepted, jobId: firstClaim.jobId });
        expect(sleep).toHaveBeenCalledWith(100);
      });

      it('answers IDEMPOTENCY_IN_PROGRESS when the first record does not show up within 3 s', async () => {
        await firstRequest();
        idempotency.claim.mockResolvedValue(firstClaim);
        jobs.findOwned.mockResolvedValue(undefined);

        await expect(sut.enqueue(keyed)).rejects.toMatchObject(
          domainError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed; retry shortly'),
        );
        expect(jobs.findOwned).toHaveBeenCalledTimes(31);
      });

      it('answers IDEMPOTENCY_CONFLICT when the key was used for another prompt', async () => {
        await firstRequest();
        idempotency.claim.mockResolvedValue(firstClaim);

        await expect(sut.enqueue({ ...keyed, prompt: 'Something else' })).rejects.toMatchObject(
          domainError('IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was used for a different request'),
        );
      });

      describe('whose Redis claim expired but whose record exists (the unique index answers)', () => {
        beforeEach(() => {
          slotFree();
          jobs.create.mockResolvedValue(undefined);
          slots.release.mockResolvedValue();
          idempotency.release.mockResolvedValue();
        });

        it('gives back its slot and claim and answers with the existing job', async () => {
          jobs.findByIdempotencyKey.mockResolvedValue(jobStub.queued);

          expect(await sut.enqueue(keyed)).toEqual(accepted);

          const jobId = createdJobId();
          expect(jobs.findByIdempotencyKey).toHaveBeenCalledWith(`${userId}:order-42`);
          expect(slots.release).toHaveBeenCalledWith(userId, jobId);
          expect(idempotency.release).toHaveBeenCalledWith(userId, 'order-42', { jobId, fingerprint: expect.any(String) });
        });

        it('answers IDEMPOTENCY_CONFLICT when the existing job had another prompt', async () => {
          jobs.findByIdempotencyKey.mockResolvedValue({ ...jobStub.queued, prompt: 'Something else' });

          await expect(sut.enqueue(keyed)).rejects.toMatchObject(domainError('IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was used for a different request'));
        });

        it('answers DEPENDENCY_UNAVAILABLE when the existing job cannot be found either', async () => {
          jobs.findByIdempotencyKey.mockResolvedValue(undefined);

          await expect(sut.enqueue(keyed)).rejects.toMatchObject(domainError('DEPENDENCY_UNAVAILABLE', 'Could not record the job, try again shortly'));
        });
      });
    });

    describe('at the cap of unfinished jobs', () => {
      beforeEach(() => {
        slots.acquire.mockResolvedValueOnce(0);
        slots.release.mockResolvedValue();
      });

      it('frees slots older than the grace whose job is finished or has no record, then takes one', async () => {
        slots.normalSlots.mockResolvedValue([
          { jobId: 'finished', takenAt: NOW - GRACE_MS - 1 },
          { jobId: 'missing', takenAt: NOW - GRACE_MS - 1 },
          { jobId: 'running', takenAt: NOW - GRACE_MS - 1 },
          { jobId: 'recent', takenAt: NOW - GRACE_MS },
        ]);
        jobs.isFinished.mockImplementation(async (jobId) => ({ finished: true, missing: undefined, running: false })[jobId as 'finished' | 'missing' | 'running']);
        slots.acquire.mockResolvedValueOnce(2);
        recording();
        queue.addGeneration.mockResolvedValue();

        await sut.enqueue(command);

        expect(slots.release.mock.calls).toEqual([
          [userId, 'finished'],
          [userId, 'missing'],
        ]);
        expect(jobs.isFinished).not.toHaveBeenCalledWith('recent');
        expect(slots.acquire).toHaveBeenCalledTimes(2);
      });

      it('answers TOO_MANY_ACTIVE_JOBS with the limit when none can be freed, leaving nothing behind', async () => {
        slots.normalSlots.mockResolvedValue([{ jobId: 'running', takenAt: NOW - GRACE_MS - 1 }]);
        jobs.isFinished.mockResolvedValue(false);

        await expect(sut.enqueue(command)).rejects.toMatchObject(
          domainError('TOO_MANY_ACTIVE_JOBS', 'You already have 3 unfinished jobs; wait for one to finish', { details: { limit: CAP } }),
        );
        expect(slots.release).toHaveBeenCalledTimes(1);
        expect(slots.release).toHaveBeenCalledWith(userId, slots.acquire.mock.calls[0][1]);
        expect(rateLimits.refund).toHaveBeenCalledWith(userId, slots.acquire.mock.calls[0][1], 1);
        expect(jobs.create).not.toHaveBeenCalled();
      });
    });

    it('gives back the slot and rethrows when the record cannot be written', async () => {
      slotFree();
      jobs.create.mockRejectedValue(outageStub.mongo);
      slots.release.mockResolvedValue();

      await expect(sut.enqueue(command)).rejects.toBe(outageStub.mongo);
      expect(slots.release).toHaveBeenCalledWith(userId, createdJobId());
      expect(queue.addGeneration).not.toHaveBeenCalled();
    });

    describe('when the queue refuses the job', () => {
      beforeEach(() => {
        slotFree();
        recording();
        queue.addGeneration.mockRejectedValue(outageStub.redis);
        slots.release.mockResolvedValue();
        idempotency.claim.mockResolvedValue(undefined);
        idempotency.release.mockResolvedValue();
      });

      it('removes the record, gives back the slot and the key, and answers DEPENDENCY_UNAVAILABLE', async () => {
        jobs.delete.mockResolvedValue();

        await expect(sut.enqueue(keyed)).rejects.toMatchObject(domainError('DEPENDENCY_UNAVAILABLE', 'The job queue is unavailable, try again shortly'));

        const jobId = createdJobId();
        expect(jobs.delete).toHaveBeenCalledWith(jobId);
        expect(slots.release).toHaveBeenCalledWith(userId, jobId);
        expect(rateLimits.refund).toHaveBeenCalledWith(userId, jobId, 1);
        expect(idempotency.release).toHaveBeenCalledWith(userId, 'order-42', { jobId, fingerprint: expect.any(String) });
      });

      it('fails the record instead when the database is down too, so it is not left queued', async () => {
        jobs.delete.mockRejectedValue(outageStub.mongo);
        jobs.markUnqueued.mockResolvedValue(undefined);

        await expect(sut.enqueue(command)).rejects.toMatchObject(domainError('DEPENDENCY_UNAVAILABLE', 'The job queue is unavailable, try again shortly'));
        expect(jobs.markUnqueued).toHaveBeenCalledWith(createdJobId(), 'Could not be queued');
      });

      it('lets an unexpected error of the removal through', async () => {
        const bug = new TypeError('bug in delete');
        jobs.delete.mockRejectedValue(bug);

        await expect(sut.enqueue(command)).rejects.toBe(bug);
        expect(jobs.markUnqueued).not.toHaveBeenCalled();
      });
    });
  });

  describe('get', () => {
    it("returns the caller's job", async () => {
      jobs.findOwned.mockResolvedValue(jobStub.queued);

      expect(await sut.get(userId, 'job-1')).toBe(jobStub.queued);
      expect(jobs.findOwned).toHaveBeenCalledWith(userId, 'job-1');
    });

    it("answers JOB_NOT_FOUND for a missing job or another user's", async () => {
      jobs.findOwned.mockResolvedValue(undefined);

      await expect(sut.get(userId, 'job-9')).rejects.toMatchObject(domainError('JOB_NOT_FOUND', 'Job not found'));
    });
  });

  it("lists the caller's jobs: all of them up to LIST_MAX_ITEMS unless a limit is given, continuing after a cursor", async () => {
    const items = (async function* () {
      yield jobStub.queued;
    })();
    jobs.page.mockResolvedValue({ items, next: { createdAt: new Date(NOW), id: 'job-1' } });
    const cursor = Buffer.from(`${new Date(NOW).toISOString()}|${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`).toString('base64url');

    const page = await sut.list(userId);
    await sut.list(userId, { limit: 10, cursor });

    expect(page.items).toBe(items);
    expect(Buffer.from(page.nextCursor!, 'base64url').toString()).toBe(`${new Date(NOW).toISOString()}|job-1`);
    expect(jobs.page.mock.calls).toEqual([
      [userId, { limit: 10_000, after: undefined }],
      [userId, { limit: 10, after: { createdAt: new Date(NOW), id: `${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}` } }],
    ]);
  });

  describe('save', () => {
    it("keeps a completed job's text and provenance in the library, titled after the prompt by default", async () => {
      jobs.findOwned.mockResolvedValue(jobStub.completed);
      content.saveFromJob.mockResolvedValue({ item: contentStub, created: true });

      expect(await sut.save(userId, 'job-1')).toEqual({ message: 'Content saved to your library', content: contentStub });
      expect(content.saveFromJob).toHaveBeenCalledWith({
        userId,
        jobId: 'job-1',
        variant: 0,
        title: 'Generated: A launch post for a solar backpack...',
        type: 'Blog Post Outline',
        body: 'Ten ideas for the launch',
        provider: 'openrouter',
        model: 'openai/gpt-4o-mini',
        usage: jobStub.completed.usage,
      });
    });

    it('uses the given title and says so when the job was already saved', async () => {
      jobs.findOwned.mockResolvedValue(jobStub.completed);
      content.saveFromJob.mockResolvedValue({ item: contentStub, created: false });

      expect(await sut.save(userId, 'job-1', { title: 'My title' })).toEqual({ message: 'Content was already saved', content: contentStub });
      expect(content.saveFromJob).toHaveBeenCalledWith(expect.objectContaining({ title: 'My title' }));
    });

    it('answers JOB_NOT_COMPLETED with the current status for an unfinished job', async () => {
      jobs.findOwned.mockResolvedValue(jobStub.processing);

      await expect(sut.save(userId, 'job-1')).rejects.toMatchObject(
        domainError('JOB_NOT_COMPLETED', 'Job is processing; only completed jobs can be saved', { details: { currentStatus: 'processing' } }),
      );
      expect(content.saveFromJob).not.toHaveBeenCalled();
    });

    it('answers JOB_NOT_FOUND for an unknown job', async () => {
      jobs.findOwned.mockResolvedValue(undefined);

      await expect(sut.save(userId, 'job-9')).rejects.toMatchObject(domainError('JOB_NOT_FOUND', 'Job not found'));
    });
  });
});
