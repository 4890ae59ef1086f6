import { ClientEventName, PubSubEnvelope, StoredNotification } from './client-events';
import { ClientSession } from './client-session';

const userId = '64b7f0c2a1b2c3d4e5f60718';

const eventStub = {
  status: (id: string, jobId = `job-${id}`): StoredNotification<'job_status'> => ({ id, event: 'job_status', payload: { jobId, status: 'processing', attempt: 1 } }),
  completed: (id: string, jobId = `job-${id}`): StoredNotification<'job_completed'> => ({
    id,
    event: 'job_completed',
    payload: { userId, jobId, status: 'completed', generatedContent: 'text', completedAt: '2026-01-01T00:00:00.000Z' },
  }),
  delta: (seq: number): PubSubEnvelope<'job_delta'> => ({ event: 'job_delta', userId, payload: { jobId: 'job', attempt: 1, delivery: 1, seq, text: `d${seq}` } }),
};

const live = (event: StoredNotification): PubSubEnvelope => ({ ...event, userId });

describe(ClientSession.name, () => {
  let sent: { event: ClientEventName; id?: string; seq?: number }[];
  let sut: ClientSession;

  const clientId = 'socket-1';
  const sender = {
    clientSend: jest.fn((event: ClientEventName, _clientId: string, payload: unknown, meta?: { id: string }) => {
      sent.push({ event, id: meta?.id, ...(event === 'job_delta' ? { seq: (payload as { seq: number }).seq } : {}) });
    }),
  };

  beforeEach(() => {
    sent = [];
    sender.clientSend.mockClear();
    sut = new ClientSession(userId, clientId, sender);
  });

  it('sends live events at once: recorded ones with their id, deltas without', () => {
    sut.deliver(live(eventStub.status('10-0')));
    sut.deliver(eventStub.delta(0));
    expect(sent).toEqual([{ event: 'job_status', id: '10-0' }, { event: 'job_delta', id: undefined, seq: 0 }]);
    expect(sender.clientSend).toHaveBeenLastCalledWith('job_delta', clientId, eventStub.delta(0).payload);
    expect(sut.lastId).toBe('10-0');
  });

  it('never sends a recorded event twice or an older one after a newer one', () => {
    sut.deliver(live(eventStub.status('10-0')));
    sut.deliver(live(eventStub.status('10-0')));
    sut.deliver(live(eventStub.status('9-5')));
    expect(sent.map((entry) => entry.id)).toEqual(['10-0']);
  });

  it('holds live events back during a catch-up and merges them with the replay in id order, each once', () => {
    sut.startCatchUp();
    sut.deliver(live(eventStub.status('12-0')));
    sut.deliver(eventStub.delta(0));
    sut.deliver(live(eventStub.completed('13-0')));
    expect(sent).toEqual([]);

    // The replay saw 10 (missed earlier) and 13 (also received live); 12 was filtered out of it.
    sut.finishCatchUp([eventStub.completed('10-0'), eventStub.completed('13-0')], '13-0');

    expect(sent).toEqual([
      { event: 'job_completed', id: '10-0' },
      { event: 'job_status', id: '12-0' },
      { event: 'job_delta', id: undefined, seq: 0 },
      { event: 'job_completed', id: '13-0' },
    ]);
  });

  it('drops live events up to the newest id the replay looked at, once it is done', () => {
    sut.startCatchUp();
    sut.finishCatchUp([], '20-0');
    sut.deliver(live(eventStub.status('19-0')));
    sut.deliver(live(eventStub.status('21-0')));
    expect(sent.map((entry) => entry.id)).toEqual(['21-0']);
  });

  it('sends nothing up to the lastEventId the client gave', () => {
    sut = new ClientSession(userId, clientId, sender, '30-0');
    sut.startCatchUp();
    sut.deliver(live(eventStub.status('29-0')));
    sut.finishCatchUp([eventStub.completed('31-0')], '31-0');
    expect(sent.map((entry) => entry.id)).toEqual(['31-0']);
  });

  it('sends nothing once closed', () => {
    sut.close();
    sut.deliver(live(eventStub.status('1-0')));
    sut.finishCatchUp([eventStub.completed('2-0')]);
    expect(sender.clientSend).not.toHaveBeenCalled();
    expect(sut.closed).toBe(true);
  });

  it('bounds the deltas it holds back, never the recorded events', () => {
    sut.startCatchUp();
    for (let seq = 0; seq < 1500; seq++) sut.deliver(eventStub.delta(seq));
    sut.deliver(live(eventStub.completed('5-0')));
    sut.finishCatchUp([]);
    expect(sent.filter((entry) => entry.event === 'job_delta')).toHaveLength(1000);
    expect(sent.at(-1)).toEqual({ event: 'job_completed', id: '5-0' });
  });
});
