import { registerAs } from '@nestjs/config';
import { IntVar, validateEnv } from './validate-env';

class RealtimeEnv {
  @IntVar('NOTIFICATIONS_REPLAY_WINDOW_MS', 1000) NOTIFICATIONS_REPLAY_WINDOW_MS = 24 * 60 * 60 * 1000;
  @IntVar('NOTIFICATIONS_MAX_PER_USER', 10) NOTIFICATIONS_MAX_PER_USER = 1000;
  @IntVar('SOCKET_MAX_MESSAGE_BYTES', 256) SOCKET_MAX_MESSAGE_BYTES = 4096;
  @IntVar('JOB_DELTA_INTERVAL_MS', 10) JOB_DELTA_INTERVAL_MS = 50;
}

export const realtimeConfig = registerAs('realtime', () => {
  const env = validateEnv(RealtimeEnv);
  return {
    replayWindowMs: env.NOTIFICATIONS_REPLAY_WINDOW_MS,
    maxEventsPerUser: env.NOTIFICATIONS_MAX_PER_USER,
    maxMessageBytes: env.SOCKET_MAX_MESSAGE_BYTES,
    deltaIntervalMs: env.JOB_DELTA_INTERVAL_MS,
  };
});
export type RealtimeConfig = ReturnType<typeof realtimeConfig>;
