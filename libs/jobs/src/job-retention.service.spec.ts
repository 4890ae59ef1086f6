import { Logger } from '@nestjs/common';
import { GenerationConfig, RealtimeConfig } from '@app/config';
import { MetricsService } from '@app/metrics';
import { strictMock } from '@app/testing';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobRetention, RETENTION_BATCH_SIZE, RETENTION_MAX_BATCHES } from './job-retention.service';
import { JobQueue } from './job.queue';
import { JobRepository } from './job.repository';

const now = 1_800_000_000_000;
const retentionMs = 30 * 24 * 3600_000;
const before = new Date(now - retentionMs);
const ids = (count: number, from = 0) => Array.from({ length: count }, (_, i) => `job-${from + i}`);

describe(JobRetention.name, () => {
  let sut: JobRetention;
  let jobs: jest.Mocked<JobRepository>;
  let ledger: jest.Mocked<JobLedgerRepository>;
  let queue: jest.Mocked<JobQueue>;
  let metrics: jest.Mocked<MetricsService>;

  afterEach(() => jest.restoreAllMocks());

  beforeEach(() => {
    for (const level of ['log', 'warn'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
    jobs = strictMock(JobRepository);
    ledger = strictMock(JobLedgerRepository);
    queue = strictMock(JobQueue);
    metrics = strictMock(MetricsService);
    metrics.retentionRan.mockReturnValue();
    sut = new JobRetention(jobs, ledger, queue, metrics, { retentionMs } as GenerationConfig, { replayWindowMs: 24 * 3600_000 } as RealtimeConfig);
  });

  it('deletes finished records older than the retention, then their queue entries and ledgers', async () => {
    jobs.listFinishedBefore.mockResolvedValueOnce(['a', 'b']);
    jobs.deleteFinishedBefore.mockResolvedValue(['a', 'b']);
    queue.removeJobs.mockResolvedValue(1);
    ledger.forget.mockResolvedValue(2);

    expect(await sut.run(now)).toEqual({ records: 2, queueEntries: 1, ledgers: 2, complete: true });
    expect(jobs.listFinishedBefore).toHaveBeenCalledTimes(1);
    expect(jobs.listFinishedBefore).toHaveBeenCalledWith(before, RETENTION_BATCH_SIZE);
    expect(jobs.deleteFinishedBefore).toHaveBeenCalledWith(['a', 'b'], before);
    expect(queue.removeJobs).toHaveBeenCalledWith(['a', 'b']);
    expect(ledger.forget).toHaveBeenCalledWith(['a', 'b']);
  });

  it('counts what it deleted in the metrics', async () => {
    jobs.listFinishedBefore.mockResolvedValueOnce(['a', 'b']);
    jobs.deleteFinishedBefore.mockResolvedValue(['a', 'b']);
    queue.removeJobs.mockResolvedValue(1);
    ledger.forget.mockResolvedValue(2);

    await sut.run(now);

    expect(metrics.retentionRan).toHaveBeenCalledWith({ records: 2, queueEntries: 1, ledgers: 2, complete: true });
  });

  it('logs one line per run with its counts', async () => {
    jobs.listFinishedBefore.mockResolvedValueOnce(['a']);
    jobs.deleteFinishedBefore.mockResolvedValue(['a']);
    queue.removeJobs.mockResolvedValue(0);
    ledger.forget.mockResolvedValue(1);

    await sut.run(now);

    expect(Logger.prototype.log).toHaveBeenCalledTimes(1);
    expect(Logger.prototype.log).toHaveBeenCalledWith(expect.objectContaining({ retentionMs, records: 1, queueEntries: 0, ledgers: 1, complete: true }));
  });

  it('warns at start when notifications would outlive the records they tell of', () => {
    new JobRetention(jobs, ledger, queue, metrics, { retentionMs: 1000 } as GenerationConfig, { replayWindowMs: 2000 } as RealtimeConfig);

    expect(Logger.prototype.warn).toHaveBeenCalledWith(expect.stringContaining('NOTIFICATIONS_REPLAY_WINDOW_MS is longer than JOB_RETENTION_MS'));
  });

  it('does nothing when nothing is due', async () => {
    jobs.listFinishedBefore.mockResolvedValue([]);

    expect(await sut.run(now)).toEqual({ records: 0, queueEntries: 0, ledgers: 0, complete: true });
    expect(jobs.deleteFinishedBefore).not.toHaveBeenCalled();
  });

  it('touches Redis only for the records it deleted: one an admin retried in between keeps its queue entry', async () => {
    jobs.listFinishedBefore.mockResolvedValueOnce(['a', 'retried']);
    jobs.deleteFinishedBefore.mockResolvedValue(['a']);
    queue.removeJobs.mockResolvedValue(0);
    ledger.forget.mockResolvedValue(0);

    expect(await sut.run(now)).toEqual({ records: 1, queueEntries: 0, ledgers: 0, complete: true });
    expect(queue.removeJobs).toHaveBeenCalledWith(['a']);
    expect(ledger.forget).toHaveBeenCalledWith(['a']);
  });

  it('goes on batch after batch while batches come back full', async () => {
    jobs.listFinishedBefore
      .mockResolvedValueOnce(ids(RETENTION_BATCH_SIZE))
      .mockResolvedValueOnce(ids(3, RETENTION_BATCH_SIZE));
    jobs.deleteFinishedBefore.mockImplementation(async (due) => due);
    queue.removeJobs.mockResolvedValue(0);
    ledger.forget.mockResolvedValue(0);

    expect(await sut.run(now)).toEqual({ records: RETENTION_BATCH_SIZE + 3, queueEntries: 0, ledgers: 0, complete: true });
    expect(jobs.listFinishedBefore).toHaveBeenCalledTimes(2);
  });

  it('stops at its batch limit and says more is due', async () => {
    jobs.listFinishedBefore.mockResolvedValue(ids(RETENTION_BATCH_SIZE));
    jobs.deleteFinishedBefore.mockImplementation(async (due) => due);
    queue.removeJobs.mockResolvedValue(0);
    ledger.forget.mockResolvedValue(0);

    expect(await sut.run(now)).toEqual({ records: RETENTION_BATCH_SIZE * RETENTION_MAX_BATCHES, queueEntries: 0, ledgers: 0, complete: false });
    expect(jobs.deleteFinishedBefore).toHaveBeenCalledTimes(RETENTION_MAX_BATCHES);
  });

  it('leaves a full batch it could not delete to the next run instead of finding it again', async () => {
    jobs.listFinishedBefore.mockResolvedValue(ids(RETENTION_BATCH_SIZE));
    jobs.deleteFinishedBefore.mockResolvedValue([]);

    expect(await sut.run(now)).toEqual({ records: 0, queueEntries: 0, ledgers: 0, complete: false });
    expect(jobs.listFinishedBefore).toHaveBeenCalledTimes(1);
    expect(queue.removeJobs).not.toHaveBeenCalled();
  });

  it('fails the run when the database fails, before touching Redis', async () => {
    jobs.listFinishedBefore.mockResolvedValue(['a']);
    jobs.deleteFinishedBefore.mockRejectedValue(new Error('database down'));

    await expect(sut.run(now)).rejects.toThrow('database down');
    expect(queue.removeJobs).not.toHaveBeenCalled();
    expect(ledger.forget).not.toHaveBeenCalled();
  });
});
