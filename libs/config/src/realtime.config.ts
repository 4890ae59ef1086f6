import { registerAs } from '@nestjs/config';
import { IntVar, validateEnv } from './validate-env';

class RealtimeEnv {
  @IntVar('NOTIFICATIONS_REPLAY_WINDOW_MS', 1000) NOTIFICATIONS_REPLAY_WINDOW_MS = 24 * 60 * 60 * 1000;
  @IntVar('NOTIFICATIONS_MAX_PER_USER', 10) NOTIFICATIONS_MAX_PER_USER = 1000;
  @IntVar('SOCKET_MAX_MESSAGE_BYTES', 256) SOCKET_MAX_MESSAGE_BYTES = 4096;
  @IntVar('JOB_DELTA_INTERVAL_MS', 10) JOB_DELTA_INTERVAL_MS = 50;
  /** Live sockets per user across all API instances; the next handshake is refused. 0 = off. */
  @IntVar('MAX_SOCKETS_PER_USER', 0) MAX_SOCKETS_PER_USER = 20;
}

export const realtimeConfig = registerAs('realtime', () => {
  const env = validateEnv(RealtimeEnv);
  return {
    replayWindowMs: env.NOTIFICATIONS_REPLAY_WINDOW_MS,
    maxEventsPerUser: env.NOTIFICATIONS_MAX_PER_USER,
    maxMessageBytes: env.SOCKET_MAX_MESSAGE_BYTES,
    deltaIntervalMs: env.JOB_DELTA_INTERVAL_MS,
    maxSocketsPerUser: env.MAX_SOCKETS_PER_USER,
  };
});
export type RealtimeConfig = ReturnType<typeof realtimeConfig>;
