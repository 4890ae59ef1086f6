import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AuthService } from '@app/auth';
import { authConfig, AuthConfig } from '@app/config';
import { AccountDeletion } from './account-deletion.service';
import { SweepLockRepository } from './sweep-lock.repository';

/** Accounts finished per sweep at most: each may wait up to 15 s for its jobs; the rest go next time. */
export const SWEEP_BATCH = 20;
/** How long a sweep may hold the lock before another instance may take it (a deletion can be repeated). */
const LOCK_MIN_MS = 60_000;

/**
 * Finishes account deletions nobody resumes: the caller's token may have expired, and an inactive account can
 * neither log in nor refresh, so a deletion cut short (an outage answered 503) would otherwise stay half done.
 * Every ACCOUNT_DELETION_SWEEP_MS one API instance (a Redis lock) runs the same idempotent steps for accounts
 * whose deletion began over ACCOUNT_DELETION_RESUME_AFTER_MS ago.
 */
@Injectable()
export class AccountDeletionSweep implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AccountDeletionSweep.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly auth: AuthService,
    private readonly deletion: AccountDeletion,
    private readonly lock: SweepLockRepository,
    @Inject(authConfig.KEY) private readonly config: AuthConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.accountDeletion.sweepMs).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One sweep; how many accounts it finished (0 when another instance holds the lock). */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let token: string | undefined;
    try {
      token = await this.lock.acquire(Math.max(LOCK_MIN_MS, 2 * this.config.accountDeletion.sweepMs));
      if (!token) return 0;
      const before = new Date(Date.now() - this.config.accountDeletion.resumeAfterMs);
      let finished = 0;
      for (const userId of await this.auth.accountsLeftDeleting(before, SWEEP_BATCH)) {
        try {
          await this.deletion.finish(userId);
          finished++;
        } catch (error) {
          this.logger.warn({ msg: 'could not finish an account deletion; the next sweep tries again', userId, error: (error as Error).message });
        }
      }
      return finished;
    } catch (error) {
      this.logger.warn(`Account deletion sweep failed: ${(error as Error).message}`);
      return 0;
    } finally {
      if (token) await this.lock.release(token).catch(() => undefined);
      this.running = false;
    }
  }
}
