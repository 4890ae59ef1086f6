import { DomainError } from '@app/common';
import { GenerationConfig, OpenRouterConfig } from '@app/config';
import { TemplatesService } from '@app/templates';
import { strictMock } from '@app/testing';
import { IdempotencyRepository } from '../idempotency.repository';
import { JobCancellation } from '../job-cancellation.service';
import { JobSlotsRepository } from '../job-slots.repository';
import { JobSpecs } from '../job-spec';
import { JobQueue } from '../job.queue';
import { JobRepository } from '../job.repository';
import { JobView } from '../job.types';
import { BatchProgressRepository } from './batch-progress.repository';
import { BatchRepository } from './batch.repository';
import { BatchService, CreateBatchCommand } from './batch.service';
import { JobRateLimits } from '../limits/job-rate-limits.service';

const userId = '64b7f0c2a1b2c3d4e5f60718';
const items = [
  { prompt: 'First', contentType: 'blog-post' },
  { prompt: 'Second', contentType: 'Social Media Caption', options: { platform: 'x' } },
];
const command: CreateBatchCommand = { userId, input: { json: { items } }, correlationId: 'corr-1' };

function domainError(code: string, extra: object = {}) {
  return expect.objectContaining({ name: 'DomainError', code, ...extra });
}

describe(BatchService.name, () => {
  let sut: BatchService;
  let batches: jest.Mocked<BatchRepository>;
  let progress: jest.Mocked<BatchProgressRepository>;
  let jobs: jest.Mocked<JobRepository>;
  let slots: jest.Mocked<JobSlotsRepository>;
  let idempotency: jest.Mocked<IdempotencyRepository>;
  let queue: jest.Mocked<JobQueue>;
  let cancellation: jest.Mocked<JobCancellation>;
  let rateLimits: jest.Mocked<JobRateLimits>;
  const config = { delayMs: 0, maxPromptLength: 4000, maxBatchItems: 3, maxBatchJobsPerUser: 10 } as GenerationConfig;

  beforeEach(() => {
    batches = strictMock(BatchRepository);
    progress = strictMock(BatchProgressRepository);
    jobs = strictMock(JobRepository);
    slots = strictMock(JobSlotsRepository);
    idempotency = strictMock(IdempotencyRepository);
    queue = strictMock(JobQueue);
    cancellation = strictMock(JobCancellation);
    const specs = new JobSpecs(strictMock(TemplatesService), config, { allowedModels: [] } as unknown as OpenRouterConfig);
    rateLimits = strictMock(JobRateLimits);
    rateLimits.admit.mockResolvedValue();
    rateLimits.refund.mockResolvedValue();
    sut = new BatchService(batches, progress, jobs, slots, idempotency, queue, specs, cancellation, rateLimits, config);
  });

  const acceptEverything = () => {
    slots.acquireBatch.mockResolvedValue([3, 4]);
    progress.start.mockResolvedValue();
    batches.create.mockImplementation(async (batch) => batch);
    jobs.create.mockImplementation(async (job) => ({ ...job, _id: job.jobId, status: 'queued' }) as unknown as JobView);
    queue.addGenerations.mockResolvedValue();
  };

  it('queues every item as a job of one batch, in item order, each with its place as priority', async () => {
    acceptEverything();

    const created = await sut.create(command);

    expect(created.jobs.map((job) => job.index)).toEqual([0, 1]);
    const jobIds = created.jobs.map((job) => job.jobId);
    expect(slots.acquireBatch).toHaveBeenCalledWith(userId, jobIds, 10);
    // Each item counts in the user's rate windows, taken before the slots.
    expect(rateLimits.admit).toHaveBeenCalledWith(userId, created.batchId, 2);
    expect(rateLimits.admit.mock.invocationCallOrder[0]).toBeLessThan(slots.acquireBatch.mock.invocationCallOrder[0]);
    expect(jobs.create).toHaveBeenCalledWith(expect.objectContaining({ jobId: jobIds[1], batchId: created.batchId, batchIndex: 1, contentType: 'Social Media Caption', options: { platform: 'x' } }));
    expect(queue.addGenerations).toHaveBeenCalledWith(
      [
        { payload: { jobId: jobIds[0], userId, correlationId: 'corr-1' }, place: 3 },
        { payload: { jobId: jobIds[1], userId, correlationId: 'corr-1' }, place: 4 },
      ],
      0,
    );
  });

  it('takes nothing for a batch with a bad item, and names each bad one by index', async () => {
    const bad = { userId, input: { json: { items: [items[0], { prompt: 'x', contentType: 'blog-post', options: { variants: 9 } }, { prompt: 'no type' }] } } };

    await expect(sut.create(bad)).rejects.toEqual(
      domainError('INVALID_ARGUMENT', {
        details: {
          details: [
            { field: 'items[1].options.variants', errors: [expect.any(String)] },
            { field: 'items[2].contentType', errors: [expect.any(String)] },
          ],
        },
      }),
    );
    // Strict mocks: no slot, claim, record or queue call was made.
    expect(rateLimits.admit).not.toHaveBeenCalled();
  });

  it('answers RATE_LIMITED for a batch past the window, taking no slot and giving the key back', async () => {
    const refused = new DomainError('RATE_LIMITED', 'A batch of 2 jobs would take you past 10 jobs per minute', { retryAfterSeconds: 30 });
    rateLimits.admit.mockRejectedValue(refused);
    idempotency.claim.mockResolvedValue(undefined);
    idempotency.release.mockResolvedValue();

    await expect(sut.create({ ...command, idempotencyKey: 'k0' })).rejects.toBe(refused);
    expect(slots.acquireBatch).not.toHaveBeenCalled();
    expect(idempotency.release).toHaveBeenCalledTimes(1);
  });

  it('refuses a body that is not { items } or holds too many', async () => {
    await expect(sut.create({ userId, input: { json: [items[0]] } })).rejects.toEqual(domainError('INVALID_ARGUMENT'));
    await expect(sut.create({ userId, input: { json: { items, extra: 1 } } })).rejects.toEqual(domainError('INVALID_ARGUMENT', { details: { details: [{ field: 'extra', errors: [expect.any(String)] }] } }));
    await expect(sut.create({ userId, input: { json: { items: [...items, ...items] } } })).rejects.toEqual(domainError('INVALID_ARGUMENT', { message: expect.stringContaining('at most 3') }));
  });

  it('answers 429 naming the batch cap and gives the Idempotency-Key back when the batch does not fit', async () => {
    idempotency.claim.mockResolvedValue(undefined);
    idempotency.release.mockResolvedValue();
    slots.acquireBatch.mockResolvedValue(undefined);

    await expect(sut.create({ ...command, idempotencyKey: 'k1' })).rejects.toEqual(domainError('TOO_MANY_ACTIVE_JOBS', { details: { limit: 10, cap: 'MAX_BATCH_JOBS_PER_USER' } }));
    expect(idempotency.claim).toHaveBeenCalledWith(userId, 'batch/k1', expect.any(Object));
    expect(idempotency.release).toHaveBeenCalledTimes(1);
    // The window entries go back: the batch was not queued.
    expect(rateLimits.refund).toHaveBeenCalledWith(userId, rateLimits.admit.mock.calls[0][1], 2);
  });

  it('undoes everything when the queue refuses the batch: records, batch, progress, slots and claim', async () => {
    acceptEverything();
    idempotency.claim.mockResolvedValue(undefined);
    idempotency.release.mockResolvedValue();
    queue.addGenerations.mockRejectedValue(new Error('Queue did not answer in time'));
    jobs.delete.mockResolvedValue();
    batches.delete.mockResolvedValue();
    progress.forget.mockResolvedValue();
    slots.release.mockResolvedValue();

    await expect(sut.create({ ...command, idempotencyKey: 'k2' })).rejects.toEqual(domainError('DEPENDENCY_UNAVAILABLE'));
    expect(jobs.delete).toHaveBeenCalledTimes(2);
    expect(slots.release).toHaveBeenCalledTimes(2);
    expect(batches.delete).toHaveBeenCalledTimes(1);
    expect(progress.forget).toHaveBeenCalledTimes(1);
    expect(idempotency.release).toHaveBeenCalledTimes(1);
    expect(rateLimits.refund).toHaveBeenCalledWith(userId, rateLimits.admit.mock.calls[0][1], 2);
  });

  it('answers a retry with a claimed key with the first batch, and another body with 422', async () => {
    acceptEverything();
    idempotency.claim.mockResolvedValueOnce(undefined);
    const first = await sut.create({ ...command, idempotencyKey: 'k3' });
    const claimed = idempotency.claim.mock.calls[0][2];
    idempotency.claim.mockResolvedValue(claimed);
    batches.findOwned.mockResolvedValue({ batchId: first.batchId, userId, total: 2, jobIds: first.jobs.map((job) => job.jobId), fingerprint: claimed.fingerprint, correlationId: 'corr-1', createdAt: new Date() });

    expect(await sut.create({ ...command, idempotencyKey: 'k3' })).toEqual(first);
    await expect(sut.create({ userId, input: { json: { items: [items[0]] } }, idempotencyKey: 'k3' })).rejects.toEqual(domainError('IDEMPOTENCY_CONFLICT'));
  });
});
