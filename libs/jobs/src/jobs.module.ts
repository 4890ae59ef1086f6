import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { generationConfig, mongoConfig, openRouterConfig, redisConfig } from '@app/config';
import { ContentModule } from '@app/content';
import { PubSubModule } from '@app/pubsub';
import { TemplatesModule } from '@app/templates';
import { WebhooksModule } from '@app/webhooks';
import { AdminJobsRepository } from './admin-jobs.repository';
import { AdminJobsService } from './admin-jobs.service';
import { BatchProgressRepository } from './batch/batch-progress.repository';
import { BatchProgress } from './batch/batch-progress.service';
import { BatchRepository } from './batch/batch.repository';
import { batchModels } from './batch/batch.schema';
import { BatchService } from './batch/batch.service';
import { IdempotencyRepository } from './idempotency.repository';
import { JobCancellation, JobCancelSignals } from './job-cancellation.service';
import { JobFinisher } from './job-finisher.service';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobSlotsRepository } from './job-slots.repository';
import { JobSpecs } from './job-spec';
import { JobQueue } from './job.queue';
import { JobRepository } from './job.repository';
import { jobModels } from './job.schema';
import { JobsService } from './jobs.service';
import { QueueBoardService } from './queue-board.service';
import { QueueMetrics } from './queue-metrics.service';
import { JobRateLimits } from './limits/job-rate-limits.service';
import { UserJobLimits } from './limits/user-job-limits';
import { UsageRecorder } from './usage/usage-recorder.service';
import { UsageRepository } from './usage/usage.repository';
import { usageModels } from './usage/usage.schema';
import { UsageService } from './usage/usage.service';

const services = [JobsService, BatchService, BatchProgress, JobSpecs, JobCancellation, JobFinisher, JobCancelSignals, AdminJobsService, QueueMetrics, QueueBoardService, JobRateLimits, UsageRecorder, UsageService];
const repositories = [BatchRepository, BatchProgressRepository, JobRepository, AdminJobsRepository, JobSlotsRepository, JobLedgerRepository, IdempotencyRepository, JobQueue, UserJobLimits, UsageRepository];

/** The API side: enqueue, read, save, cancel and delete jobs; admins' queries and retries. Needs the global RedisModule. */
@Module({
  imports: [
    ConfigModule.forFeature(generationConfig),
    ConfigModule.forFeature(redisConfig),
    ConfigModule.forFeature(mongoConfig),
    ConfigModule.forFeature(openRouterConfig),
    jobModels,
    batchModels,
    usageModels,
    ContentModule,
    PubSubModule,
    TemplatesModule,
    WebhooksModule,
  ],
  providers: [...services, ...repositories],
  exports: [JobsService, BatchService, JobCancellation, AdminJobsService, QueueBoardService, UsageService, UsageRepository],
})
export class JobsModule {}
