import { PubSubService } from '@app/pubsub';
import { strictMock } from '@app/testing';
import { WebhookEventsService } from '@app/webhooks';
import { BatchProgressRepository } from './batch-progress.repository';
import { BatchProgress } from './batch-progress.service';

const job = { jobId: 'job-1', userId: 'user-1', status: 'completed', correlationId: 'corr-1', batchId: 'batch-1' };
const ended = { total: 3, completed: 2, failed: 1, cancelled: 0 };
const counts = { queued: 0, processing: 1, completed: 2, failed: 0, cancelled: 0 };

describe(BatchProgress.name, () => {
  let sut: BatchProgress;
  let progress: jest.Mocked<BatchProgressRepository>;
  let events: jest.Mocked<PubSubService>;
  let webhooks: jest.Mocked<WebhookEventsService>;

  beforeEach(() => {
    progress = strictMock(BatchProgressRepository);
    events = strictMock(PubSubService);
    webhooks = strictMock(WebhookEventsService);
    webhooks.emit.mockResolvedValue();
    sut = new BatchProgress(progress, events, webhooks);
  });
  afterEach(() => {
    sut.onApplicationShutdown();
    jest.useRealTimers();
  });

  it('ignores a job outside any batch', async () => {
    await sut.jobEnded({ ...job, batchId: undefined });
  });

  it('announces batch_completed with the final counts under the batch once-key', async () => {
    progress.countEnd.mockResolvedValue({ kind: 'completed', ended });
    events.publish.mockResolvedValue();

    await sut.jobEnded(job);

    expect(progress.countEnd).toHaveBeenCalledWith('batch-1', 'job-1', 'completed');
    expect(events.publish).toHaveBeenCalledWith(
      'batch_completed',
      'user-1',
      { batchId: 'batch-1', counts: { queued: 0, processing: 0, completed: 2, failed: 1, cancelled: 0 } },
      { correlationId: 'corr-1', once: 'batch:batch-1:completed' },
    );
    expect(webhooks.emit).toHaveBeenCalledWith({
      id: 'batch:batch-1:completed',
      type: 'batch.completed',
      userId: 'user-1',
      data: { batchId: 'batch-1', counts: { queued: 0, processing: 0, completed: 2, failed: 1, cancelled: 0 } },
    });
  });

  it('lets a failed batch_completed reject (the finisher is repeated), but not a failed batch_progress', async () => {
    progress.countEnd.mockResolvedValue({ kind: 'completed', ended });
    events.publish.mockRejectedValue(new Error('Connection is closed.'));
    await expect(sut.jobEnded(job)).rejects.toThrow('Connection is closed.');

    progress.countEnd.mockResolvedValue({ kind: 'progress', ended });
    progress.counts.mockResolvedValue(counts);
    await expect(sut.jobEnded(job)).resolves.toBeUndefined();
  });

  it('sends a throttled batch_progress when it is due, once per batch however many ends were throttled', async () => {
    jest.useFakeTimers({ now: 10_000 });
    progress.countEnd.mockResolvedValue({ kind: 'throttled', dueAt: 10_400 });
    progress.flush.mockResolvedValue({ kind: 'progress', ended });
    progress.counts.mockResolvedValue(counts);
    events.publish.mockResolvedValue();

    await sut.jobEnded(job);
    await sut.jobEnded({ ...job, jobId: 'job-2' });
    expect(events.publish).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(450);

    expect(progress.flush).toHaveBeenCalledTimes(1);
    expect(events.publish).toHaveBeenCalledWith('batch_progress', 'user-1', { batchId: 'batch-1', counts }, { correlationId: undefined });
  });
});
