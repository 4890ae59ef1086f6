import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from '@app/auth';
import { authConfig, redisConfig } from '@app/config';
import { ContentModule } from '@app/content';
import { JobsModule } from '@app/jobs';
import { PubSubModule } from '@app/pubsub';
import { TemplatesModule } from '@app/templates';
import { WebhooksModule } from '@app/webhooks';
import { AuthThrottleModule } from '../auth/auth-throttle.module';
import { AccountController } from './account.controller';
import { AccountDeletion } from './account-deletion.service';
import { AccountDeletionSweep } from './account-deletion-sweep.service';
import { AccountDeletionGuard } from './account-deletion.guard';
import { AccountExportService } from './account-export.service';
import { SweepLockRepository } from './sweep-lock.repository';
import { UserKeysRepository } from './user-keys.repository';

const controllers = [AccountController];
const services = [AccountDeletion, AccountDeletionSweep, AccountExportService, AccountDeletionGuard];
const repositories = [UserKeysRepository, SweepLockRepository];

/** DELETE /auth/me, its sweep, and GET /auth/me/export: they span every lib, so they are wired here, in the API. */
@Module({
  imports: [ConfigModule.forFeature(redisConfig), ConfigModule.forFeature(authConfig), AuthModule, AuthThrottleModule, ContentModule, JobsModule, PubSubModule, TemplatesModule, WebhooksModule],
  controllers,
  providers: [...services, ...repositories],
})
export class AccountModule {}
