import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { AuthService, AuthUser } from '@app/auth';
import { ContentService } from '@app/content';
import { BatchService, JobsService, UsageRepository } from '@app/jobs';
import { NOTIFICATIONS_MAX_LIMIT, NotificationsService, StoredNotification } from '@app/pubsub';
import { TemplatesService } from '@app/templates';
import { WebhooksService } from '@app/webhooks';

/** Items read per database page while the export is written. */
const PAGE_SIZE = 200;
const CHUNK_CHARS = 64 * 1024;

export interface AccountExport {
  filename: string;
  stream: Readable;
}

/**
 * GET /auth/me/export: everything the account holds, as one JSON object written while it is read. The small
 * parts (profile, sessions, templates, webhooks and their delivery logs, batches, usage per day and model, notifications) come first; jobs and library items are streamed page
 * by page, so a large account never sits in memory whole. No password hash, token hash or webhook secret is
 * ever read here: each part comes through the query that serves the API's own answers.
 */
@Injectable()
export class AccountExportService {
  constructor(
    private readonly auth: AuthService,
    private readonly jobs: JobsService,
    private readonly batches: BatchService,
    private readonly usage: UsageRepository,
    private readonly content: ContentService,
    private readonly templates: TemplatesService,
    private readonly webhooks: WebhooksService,
    private readonly notifications: NotificationsService,
  ) {}

  async export(caller: AuthUser, now = new Date()): Promise<AccountExport> {
    // Read before the first byte goes out, so an error here is still a proper error answer.
    const profile = await this.auth.me(caller.id);
    const webhooks = await this.webhooks.list(caller.id);
    const head = {
      exportedAt: now.toISOString(),
      profile,
      sessions: await this.auth.listSessions(caller),
      templates: (await this.templates.list(caller.id)).filter((template) => !template.builtIn),
      webhooks,
      // Each webhook's last 100 delivery attempts, by webhook id.
      webhookDeliveries: Object.fromEntries(await Promise.all(webhooks.map(async (webhook) => [webhook._id, await this.webhooks.deliveryLog(caller.id, webhook._id)]))),
      batches: await this.batches.list(caller.id),
      // Per UTC day and model, as GET /usage sums them, over every day there is.
      usage: await this.usage.sums(caller.id, '0000-01-01', '9999-12-31'),
      // The events kept for replay (REALTIME_REPLAY_WINDOW_MS, at most REALTIME_MAX_EVENTS_PER_USER), oldest first.
      notifications: await this.allNotifications(caller.id),
    };
    return { filename: `account-export-${now.toISOString().slice(0, 10)}.json`, stream: Readable.from(chunked(this.body(caller.id, head)), { objectMode: false }) };
  }

  private async allNotifications(userId: string): Promise<StoredNotification[]> {
    const all: StoredNotification[] = [];
    for (let page = await this.notifications.list(userId, { limit: NOTIFICATIONS_MAX_LIMIT }); page.length > 0; ) {
      all.push(...page);
      if (page.length < NOTIFICATIONS_MAX_LIMIT) break;
      page = await this.notifications.list(userId, { after: page[page.length - 1].id, limit: NOTIFICATIONS_MAX_LIMIT });
    }
    return all;
  }

  private async *body(userId: string, head: Record<string, unknown>): AsyncIterable<string> {
    yield JSON.stringify(head).slice(0, -1);
    yield ',"jobs":';
    yield* array(pages((cursor) => this.jobs.list(userId, { limit: PAGE_SIZE, cursor })));
    yield ',"library":';
    yield* array(pages((cursor) => this.content.list(userId, { limit: PAGE_SIZE, cursor })));
    yield '}';
  }
}

/** Every item of a newest-first list, page after page by its cursor. */
async function* pages<T>(read: (cursor?: string) => Promise<{ items: AsyncIterable<T>; nextCursor?: string }>): AsyncIterable<T> {
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

async function* array(items: AsyncIterable<unknown>): AsyncIterable<string> {
  yield '[';
  let first = true;
  for await (const item of items) {
    yield (first ? '' : ',') + JSON.stringify(item);
    first = false;
  }
  yield ']';
}

/** Pieces joined into chunks of about 64 KB, so the response is not written a few bytes at a time. */
async function* chunked(pieces: AsyncIterable<string>): AsyncIterable<string> {
  let chunk = '';
  for await (const piece of pieces) {
    chunk += piece;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
