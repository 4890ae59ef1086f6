import { JobCompletedEvent } from './client-events';
import { NotificationRepository } from './notification.repository';
import { PubSubService } from './pubsub.service';
import { strictMock } from '@app/testing';

const userId = '64b7f0c2a1b2c3d4e5f60718';
const completedStub: JobCompletedEvent = { userId, jobId: 'job-1', status: 'completed', generatedContent: 'text', completedAt: '2026-01-01T00:00:00.000Z' };

describe(PubSubService.name, () => {
  let sut: PubSubService;
  let repository: jest.Mocked<NotificationRepository>;

  beforeEach(() => {
    repository = strictMock(NotificationRepository);
    sut = new PubSubService(repository);
  });

  it('records job_completed before publishing it, in one step, with the payload unchanged', async () => {
    repository.appendAndPublish.mockResolvedValueOnce('1-0');
    await sut.publish('job_completed', userId, completedStub, { correlationId: 'corr' });
    expect(repository.appendAndPublish).toHaveBeenCalledWith({ event: 'job_completed', userId, payload: completedStub, correlationId: 'corr' }, undefined, undefined);
  });

  it('passes a once-key on, for events that must be announced at most once', async () => {
    repository.appendAndPublish.mockResolvedValueOnce(undefined);
    await sut.publish('job_completed', userId, completedStub, { once: 'job-1:job_completed' });
    expect(repository.appendAndPublish).toHaveBeenCalledWith(expect.objectContaining({ event: 'job_completed' }), 'job-1:job_completed', undefined);
  });

  it('passes an unless-key on, for an event that must not follow the one announced under it', async () => {
    repository.appendAndPublish.mockResolvedValueOnce(undefined);
    await sut.publish('job_status', userId, { jobId: 'job-1', status: 'processing', attempt: 1 }, { unless: 'job-1:status:cancelled' });
    expect(repository.appendAndPublish).toHaveBeenCalledWith(expect.objectContaining({ event: 'job_status' }), undefined, 'job-1:status:cancelled');
  });

  it('refuses a once-key on an ephemeral event', async () => {
    await expect(sut.publish('job_delta', userId, { jobId: 'j', attempt: 1, delivery: 1, seq: 0, text: 'x' }, { once: 'k' })).rejects.toThrow(/recorded events/);
  });

  it('records job_status too', async () => {
    repository.appendAndPublish.mockResolvedValueOnce('1-0');
    await sut.publish('job_status', userId, { jobId: 'job-1', status: 'queued', attempt: 2 });
    expect(repository.appendAndPublish).toHaveBeenCalledTimes(1);
  });

  it('publishes job_delta without recording it', async () => {
    repository.publish.mockResolvedValueOnce(undefined);
    const payload = { jobId: 'job-1', attempt: 1, delivery: 1, seq: 0, text: 'Hi' };
    await sut.publish('job_delta', userId, payload);
    expect(repository.publish).toHaveBeenCalledWith({ event: 'job_delta', userId, payload, correlationId: undefined });
  });

  it('refuses a payload addressed to another user, and a missing recipient', async () => {
    await expect(sut.publish('job_completed', 'someone-else', completedStub)).rejects.toThrow(/does not match/);
    await expect(sut.publish('job_status', '', { jobId: 'j', status: 'queued', attempt: 0 })).rejects.toThrow(/userId is required/);
  });

  it('lets a Redis failure reach the caller', async () => {
    repository.appendAndPublish.mockRejectedValueOnce(new Error('Connection is closed.'));
    await expect(sut.publish('job_completed', userId, completedStub)).rejects.toThrow('Connection is closed.');
  });
});
