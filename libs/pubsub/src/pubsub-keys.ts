import { ClientEventName } from './client-events';

/** Every Redis key and channel of the bridge, under the configured prefix (several stacks may share one Redis). */
export const pubsubKeys = {
  /** One channel per event name, e.g. `{aicg}:job_completed`. */
  channel: (prefix: string, event: ClientEventName): string => `${prefix}:${event}`,
  /** Per-user stream of recorded events; the stream id is the event id. */
  stream: (prefix: string, userId: string): string => `${prefix}:notifications:${userId}`,
  /** Per-user id of the newest recorded event delivered to a socket that has since disconnected. */
  cursor: (prefix: string, userId: string): string => `${prefix}:notifications-cursor:${userId}`,
  /** Marks an event that must be announced at most once (e.g. a job's end). */
  once: (prefix: string, key: string): string => `${prefix}:announced:${key}`,
};
