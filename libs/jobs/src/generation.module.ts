import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { ConfigModule } from '@nestjs/config';
import { ConnectionOptions } from 'bullmq';
import { createRedisClient, reconnectDelay } from '@app/common';
import { generationConfig, realtimeConfig, redisConfig, RedisConfig } from '@app/config';
import { LlmModule } from '@app/llm';
import { PubSubModule } from '@app/pubsub';
import { WebhooksModule } from '@app/webhooks';
import { BatchProgressRepository } from './batch/batch-progress.repository';
import { BatchProgress } from './batch/batch-progress.service';
import { ContentGenerator } from './content-generator';
import { GenerationService } from './generation.service';
import { JobCancelSignals } from './job-cancellation.service';
import { JobFinisher } from './job-finisher.service';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobReconciler } from './job-reconciler.service';
import { JobRetention } from './job-retention.service';
import { JobSlotsRepository } from './job-slots.repository';
import { JobQueue } from './job.queue';
import { JobRepository } from './job.repository';
import { GENERATION_QUEUE, MAINTENANCE_QUEUE } from './job.types';
import { jobModels } from './job.schema';
import { UserJobLimits } from './limits/user-job-limits';
import { UsageRecorder } from './usage/usage-recorder.service';
import { UsageRepository } from './usage/usage.repository';
import { usageModels } from './usage/usage.schema';

/**
 * The worker's BullMQ connections wait for Redis and reconnect by themselves (no request is waiting on
 * them), every 2 s at most: BullMQ's own backoff grows to 20 s, which would idle workers that long after an outage.
 */
const bullWorkerRoot = BullModule.forRootAsync({
  imports: [ConfigModule.forFeature(redisConfig)],
  inject: [redisConfig.KEY],
  useFactory: (config: RedisConfig) => ({
    prefix: config.prefix,
    connection: bullConnection(config),
  }),
});

/**
 * Options for a single Redis (BullMQ opens and closes its connections itself); for a cluster, one client
 * that BullMQ shares and duplicates for its blocking calls. BullMQ leaves a shared client open: the
 * worker process exits once its workers have closed.
 */
function bullConnection(config: RedisConfig): ConnectionOptions {
  const waitForRedis = { maxRetriesPerRequest: null, enableOfflineQueue: true };
  if (config.clusterNodes) return createRedisClient(config, 'bullmq', waitForRedis);
  return { url: config.url, ...waitForRedis, retryStrategy: reconnectDelay };
}

const workerServices = [GenerationService, ContentGenerator, JobFinisher, BatchProgress, JobReconciler, JobRetention, JobCancelSignals, UsageRecorder];
const workerRepositories = [BatchProgressRepository, JobRepository, JobLedgerRepository, JobSlotsRepository, JobQueue, UserJobLimits, UsageRepository];

/** The worker side: run generations (and stop them when cancelled), bring their outcomes home, reconcile, delete past retention. Needs the global RedisModule. */
@Module({
  imports: [
    ConfigModule.forFeature(generationConfig),
    ConfigModule.forFeature(realtimeConfig),
    ConfigModule.forFeature(redisConfig),
    jobModels,
    usageModels,
    bullWorkerRoot,
    BullModule.registerQueue({ name: GENERATION_QUEUE }, { name: MAINTENANCE_QUEUE }),
    LlmModule,
    PubSubModule,
    WebhooksModule,
  ],
  providers: [...workerServices, ...workerRepositories],
  exports: [GenerationService, JobReconciler, JobRetention, JobCancelSignals, BullModule],
})
export class GenerationModule {}
