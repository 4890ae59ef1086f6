import { Connection } from 'mongoose';
import { HealthService } from './health.service';
import { RedisConnection } from './redis.connection';

const mongoAnswering = (ping: () => Promise<unknown>) => ({ db: { admin: () => ({ ping }) } }) as unknown as Connection;
const redisAnswering = (ping: () => Promise<unknown>) => ({ ping }) as unknown as RedisConnection;

describe(HealthService.name, () => {
  afterEach(() => jest.useRealTimers());

  it('says up when both answer a ping', async () => {
    const sut = new HealthService(mongoAnswering(async () => ({ ok: 1 })), redisAnswering(async () => 'PONG'));

    expect(await sut.check()).toEqual({ mongodb: 'up', redis: 'up' });
  });

  it('says down for a failed ping and for a database never connected', async () => {
    const neverConnected = { db: undefined } as unknown as Connection;
    const sut = new HealthService(neverConnected, redisAnswering(() => Promise.reject(new Error('Connection is closed.'))));

    expect(await sut.check()).toEqual({ mongodb: 'down', redis: 'down' });
  });

  it('says down for a ping that hangs past 1.5 s', async () => {
    jest.useFakeTimers();
    const sut = new HealthService(mongoAnswering(async () => ({ ok: 1 })), redisAnswering(() => new Promise(() => undefined)));

    const health = sut.check();
    await jest.advanceTimersByTimeAsync(1500);

    expect(await health).toEqual({ mongodb: 'up', redis: 'down' });
  });
});
