import { DomainError } from '@app/common';
import { RealtimeConfig } from '@app/config';
import { StoredNotification } from './client-events';
import { NotificationRepository, StreamPage } from './notification.repository';
import { NotificationsService } from './notifications.service';
import { strictMock } from '@app/testing';

const userId = '64b7f0c2a1b2c3d4e5f60718';
const realtime: RealtimeConfig = { replayWindowMs: 86_400_000, maxEventsPerUser: 1000, maxMessageBytes: 4096, deltaIntervalMs: 50, maxSocketsPerUser: 20 };

const eventStub = {
  status: (id: string): StoredNotification => ({ id, event: 'job_status', payload: { jobId: `job-${id}`, status: 'processing', attempt: 1 } }),
  completed: (id: string): StoredNotification => ({
    id,
    event: 'job_completed',
    payload: { userId, jobId: `job-${id}`, status: 'completed', completedAt: '2026-01-01T00:00:00.000Z' },
  }),
};

function page(events: StoredNotification[], complete = true): StreamPage {
  return { events, lastId: events.at(-1)?.id, complete };
}

describe(NotificationsService.name, () => {
  let sut: NotificationsService;
  let repository: jest.Mocked<NotificationRepository>;

  beforeEach(() => {
    repository = strictMock(NotificationRepository);
    sut = new NotificationsService(repository, realtime);
  });

  describe('list', () => {
    it('reads after the given id with the default limit of 100', async () => {
      repository.readAfter.mockResolvedValueOnce(page([eventStub.status('2-0')]));
      expect(await sut.list(userId, { after: '1' })).toEqual([eventStub.status('2-0')]);
      expect(repository.readAfter).toHaveBeenCalledWith(userId, '1-0', 100);
    });

    it.each([[{ after: 'x' }], [{ limit: 0 }], [{ limit: 1001 }], [{ limit: 1.5 }]])('refuses %p with INVALID_ARGUMENT', async (query) => {
      await expect(sut.list(userId, query)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(sut.list(userId, query)).rejects.toBeInstanceOf(DomainError);
      expect(repository.readAfter).not.toHaveBeenCalled();
    });
  });

  describe('missed', () => {
    it('without an id, reads after the cursor and keeps only completions, reporting the newest id it looked at', async () => {
      repository.cursor.mockResolvedValueOnce('5-0');
      repository.readAfter.mockResolvedValueOnce(page([eventStub.status('6-0'), eventStub.completed('7-0'), eventStub.status('8-0')]));

      expect(await sut.missed(userId, { onlyCompleted: true })).toEqual({ events: [eventStub.completed('7-0')], lastId: '8-0' });
      expect(repository.readAfter).toHaveBeenCalledWith(userId, '5-0', expect.any(Number));
    });

    it('without a cursor, reads the whole replay window', async () => {
      repository.cursor.mockResolvedValueOnce(undefined);
      repository.readAfter.mockResolvedValueOnce(page([]));
      expect(await sut.missed(userId, { onlyCompleted: true })).toEqual({ events: [], lastId: undefined });
      expect(repository.readAfter).toHaveBeenCalledWith(userId, undefined, expect.any(Number));
    });

    it('with an id, returns every recorded event after it, page after page', async () => {
      repository.readAfter.mockResolvedValueOnce(page([eventStub.status('2-0'), eventStub.completed('3-0')], false)).mockResolvedValueOnce(page([eventStub.status('4-0')]));

      const missed = await sut.missed(userId, { after: '1-0', onlyCompleted: false });

      expect(missed).toEqual({ events: [eventStub.status('2-0'), eventStub.completed('3-0'), eventStub.status('4-0')], lastId: '4-0' });
      expect(repository.readAfter.mock.calls.map((call) => call[1])).toEqual(['1-0', '3-0']);
      expect(repository.cursor).not.toHaveBeenCalled();
    });
  });

  it('remembers the last delivered id in the cursor', async () => {
    repository.advanceCursor.mockResolvedValueOnce(undefined);
    await sut.rememberDelivered(userId, '9-0');
    expect(repository.advanceCursor).toHaveBeenCalledWith(userId, '9-0');
  });
});
