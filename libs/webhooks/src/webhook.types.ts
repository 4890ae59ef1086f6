/** The events a webhook may subscribe to. */
export const WEBHOOK_EVENT_TYPES = ['job.completed', 'job.failed', 'job.cancelled', 'batch.completed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/** The ping POST /webhooks/:id/test sends to that endpoint only (not subscribable). */
export const WEBHOOK_TEST_EVENT = 'webhook.test';
export type DeliveredEventType = WebhookEventType | typeof WEBHOOK_TEST_EVENT;

export const MAX_WEBHOOKS_PER_USER = 10;
export const WEBHOOK_URL_MAX_LENGTH = 2048;
export const WEBHOOK_DESCRIPTION_MAX_LENGTH = 500;
/** Delivery log entries kept per webhook (a ring: the oldest is overwritten). */
export const DELIVERY_LOG_SIZE = 100;
/** At most one test ping per webhook this often (POST /webhooks/:id/test; 429 with Retry-After beyond). */
export const TEST_PING_INTERVAL_MS = 10_000;
/** How long a slot may be held by a webhook being created before a full user's slots are checked against MongoDB. */
export const SLOT_CLAIM_GRACE_MS = 60_000;
/** How long a rotated-out secret still signs. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 60 * 60 * 1000;

export const WEBHOOKS_QUEUE = 'webhooks';

/** What every endpoint receives as the body (Standard Webhooks' `{ type, timestamp, data }`). */
export interface WebhookBody {
  type: DeliveredEventType;
  /** ISO-8601, when the event happened (the same on every retry). */
  timestamp: string;
  data: unknown;
}

/** BullMQ job name → payload on the webhooks queue. */
export interface WebhookJobMap {
  /** One event: fanned out by the worker to the owner's subscribed, enabled endpoints. */
  event: { eventId: string; type: WebhookEventType; userId: string; body: string };
  /** One event to one endpoint; every attempt sends this body with this `webhook-id`. */
  deliver: { eventId: string; webhookId: string; userId: string; msgId: string; type: DeliveredEventType; body: string };
}
export type WebhookJobName = keyof WebhookJobMap;

/** A webhook as the API shows it (never its secret, except right after creation or rotation). */
export interface WebhookView {
  _id: string;
  url: string;
  events: WebhookEventType[];
  description?: string;
  enabled: boolean;
  /** Failed deliveries in a row (each after all its attempts). */
  failureStreak: number;
  disabledAt?: Date;
  /** Until when the previous secret still signs, after a rotation. */
  previousSecretExpiresAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookWithSecret = WebhookView & { secret: string };

/** Everything the worker needs to deliver (secrets included). */
export interface WebhookTarget {
  _id: string;
  userId: string;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  secret: string;
  previousSecret?: string;
  previousSecretExpiresAt?: Date;
}

export interface WebhookInput {
  url: string;
  events: WebhookEventType[];
  description?: string;
}

export interface WebhookChanges extends Partial<WebhookInput> {
  enabled?: boolean;
}

/** One attempt of one delivery, as GET /webhooks/:id/deliveries lists it. */
export interface WebhookDeliveryView {
  at: Date;
  eventId: string;
  /** The `webhook-id` header: the same on every attempt of one delivery. */
  msgId: string;
  type: DeliveredEventType;
  /** 1 for the first try. */
  attempt: number;
  statusCode?: number;
  latencyMs: number;
  /** delivered; retrying (another attempt follows); failed (the delivery failed for good); skipped (not sent: endpoint disabled). */
  outcome: 'delivered' | 'retrying' | 'failed' | 'skipped';
  error?: string;
  responseBytes?: number;
  truncated?: boolean;
}
