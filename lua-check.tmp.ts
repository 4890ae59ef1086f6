import Redis from 'ioredis';
import { RealtimeConfig, RedisConfig } from '@app/config';
import { NotificationRepository } from '@app/pubsub/notification.repository';
import { PubSubConnection } from '@app/pubsub/pubsub-redis.provider';

(async () => {
  const prefix = `{aicg-luacheck-${process.pid}}`;
  const conn = new PubSubConnection('redis://127.0.0.1:6379', 'check');
  await new Promise((r) => conn.once('ready', r));
  const repo = new NotificationRepository(conn, { url: '', prefix } as RedisConfig, { replayWindowMs: 1000, maxEventsPerUser: 10, maxMessageBytes: 4096, deltaIntervalMs: 50 } as RealtimeConfig);
  await repo.advanceCursor('u', '100-5');
  await repo.advanceCursor('u', '100-3');
  console.log('cursor after 100-5,100-3:', await repo.cursor('u'));
  await repo.advanceCursor('u', '101-0');
  console.log('cursor after 101-0:', await repo.cursor('u'), 'pttl', await conn.pttl(`${prefix}:notifications-cursor:u`));
  for (let i = 0; i < 300; i++) await repo.appendAndPublish({ event: 'job_status', userId: 'u', payload: { jobId: String(i), status: 'queued', attempt: 0 } });
  console.log('xlen after 300 with maxlen~10:', await conn.xlen(`${prefix}:notifications:u`));
  await new Promise((r) => setTimeout(r, 1200));
  console.log('readable after window:', (await repo.readAfter('u', undefined, 1000)).events.length);
  for (let i = 0; i < 1; i++) await repo.appendAndPublish({ event: 'job_status', userId: 'u', payload: { jobId: 'late', status: 'queued', attempt: 0 } });
  console.log('xlen after minid trim:', await conn.xlen(`${prefix}:notifications:u`), 'pttl', await conn.pttl(`${prefix}:notifications:u`));
  const keys = await conn.keys(`${prefix}*`);
  if (keys.length) await conn.del(...keys);
  conn.disconnect();
})();
