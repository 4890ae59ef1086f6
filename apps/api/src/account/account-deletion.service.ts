import { Injectable, Logger } from '@nestjs/common';
import { AuthService, AuthUser } from '@app/auth';
import { ContentService } from '@app/content';
import { JobCancellation, UsageRepository } from '@app/jobs';
import { TemplatesService } from '@app/templates';
import { WebhooksService } from '@app/webhooks';
import { UserKeysRepository } from './user-keys.repository';

/** What one deletion removed (for the log). */
export interface DeletionReport {
  webhooks: number;
  jobs: number;
  batches: number;
  usageRecords: number;
  webhookQueueEntries: number;
  libraryItems: number;
  templates: number;
  redisKeys: number;
}

/**
 * DELETE /auth/me: the account and everything it holds. It spans every lib (auth, jobs, content, templates,
 * webhooks, and Redis under the user's tag), so it lives here rather than in any one of them.
 *
 * Order: the password, then the account is marked deleting and inactive (every instance refuses its tokens and
 * drops its sockets at once; no new jobs or sessions) and its other sessions end; webhooks go before the jobs
 * are cancelled, so the cancels announce nothing to them; jobs are cancelled, waited for until no worker holds
 * one, then deleted with their BullMQ entries and ledgers; then batches and slots, usage records, what is left in the webhooks
 * queue, library, templates, everything under the user's Redis tag, and last the session and user records.
 *
 * Every step is idempotent. An outage half-way answers 503 and leaves the account inactive and marked: a repeated
 * DELETE /auth/me with the same access token (its session is kept to the end; only this route accepts the token
 * of an account being deleted) and the same password (checked against the hash, which goes last) finishes it;
 * if nobody does, AccountDeletionSweep finishes it a few minutes later.
 */
@Injectable()
export class AccountDeletion {
  private readonly logger = new Logger(AccountDeletion.name);

  constructor(
    private readonly auth: AuthService,
    private readonly jobs: JobCancellation,
    private readonly usage: UsageRepository,
    private readonly content: ContentService,
    private readonly templates: TemplatesService,
    private readonly webhooks: WebhooksService,
    private readonly userKeys: UserKeysRepository,
  ) {}

  async delete(caller: AuthUser, password: string): Promise<DeletionReport> {
    await this.auth.beginAccountDeletion(caller, password);
    this.logger.log({ msg: 'account deletion started', userId: caller.id });
    return this.finish(caller.id);
  }

  /** Every step after the first, for an account already marked deleting: the request's, or the sweep's without a caller. */
  async finish(userId: string): Promise<DeletionReport> {
    const webhooks = await this.webhooks.removeAllOf(userId);
    const jobs = await this.jobs.deleteAllOf(userId);
    const batches = await this.jobs.deleteBatchesOf(userId);
    // After the jobs: cancelling one writes its usage record.
    const usageRecords = await this.usage.deleteAllOf(userId);
    const webhookQueueEntries = await this.webhooks.purgeQueuedOf(userId);
    const libraryItems = await this.content.removeAllOf(userId);
    const templates = await this.templates.removeAllOf(userId);
    const redisKeys = await this.userKeys.deleteAll(userId);
    await this.auth.finishAccountDeletion(userId);
    const report = { webhooks, jobs, batches, usageRecords, webhookQueueEntries, libraryItems, templates, redisKeys };
    this.logger.log({ msg: 'account deleted', userId, ...report });
    return report;
  }
}
