import { userKeyPrefix } from '@app/common';
import { ClientEventName } from './client-events';

/** Every Redis key and channel of libs/pubsub, under the configured prefix (several stacks may share one Redis); see redis-keys.ts. */
export const pubsubKeys = {
  /** One channel per event name, e.g. `{aicg}:job_completed`. */
  channel: (prefix: string, event: ClientEventName): string => `${prefix}:${event}`,
  /** Per-user notification log: a stream of recorded events, whose stream id is the event id. */
  stream: (prefix: string, userId: string): string => `${userKeyPrefix(prefix, userId)}:notifications`,
  /** Per-user id of the newest recorded event delivered to a socket that has since disconnected. */
  cursor: (prefix: string, userId: string): string => `${userKeyPrefix(prefix, userId)}:notifications-cursor`,
  /** Marks an event of the user that must be announced at most once (e.g. a job's end); beside the stream, for one script. */
  once: (prefix: string, userId: string, key: string): string => `${userKeyPrefix(prefix, userId)}:announced:${key}`,
};
