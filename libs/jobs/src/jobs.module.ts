import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { ConfigModule } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import { generationConfig, realtimeConfig, redisConfig, RedisConfig } from '@app/config';
import { ContentModule } from '@app/content';
import { OpenRouterModule } from '@app/openrouter';
import { PubSubModule } from '@app/pubsub';
import { GenerationService } from './generation.service';
import { JobQuotaRepository } from './job-quota.repository';
import { JobQuota, JobQuotaSchema } from './job-quota.schema';
import { JobQueue } from './job.queue';
import { JobRepository } from './job.repository';
import { Job, JobSchema } from './job.schema';
import { GENERATION_QUEUE } from './job.types';
import { JobsService } from './jobs.service';

const jobModels = MongooseModule.forFeature([
  { name: Job.name, schema: JobSchema },
  { name: JobQuota.name, schema: JobQuotaSchema },
]);

/** The worker's BullMQ connections wait for Redis and reconnect by themselves (no request is waiting on them). */
const bullWorkerRoot = BullModule.forRootAsync({
  imports: [ConfigModule.forFeature(redisConfig)],
  inject: [redisConfig.KEY],
  useFactory: (config: RedisConfig) => ({ prefix: config.prefix, connection: { url: config.url, maxRetriesPerRequest: null } }),
});

/** The API side: enqueue, read and save jobs. */
@Module({
  imports: [
    ConfigModule.forFeature(generationConfig),
    ConfigModule.forFeature(redisConfig),
    jobModels,
    ContentModule,
  ],
  providers: [JobsService, JobRepository, JobQuotaRepository, JobQueue],
  exports: [JobsService],
})
export class JobsModule {}

/** The worker side: run generations and announce their outcome. */
@Module({
  imports: [
    ConfigModule.forFeature(generationConfig),
    ConfigModule.forFeature(realtimeConfig),
    jobModels,
    bullWorkerRoot,
    BullModule.registerQueue({ name: GENERATION_QUEUE }),
    OpenRouterModule,
    PubSubModule,
  ],
  providers: [GenerationService, JobRepository, JobQuotaRepository],
  exports: [GenerationService, BullModule],
})
export class GenerationModule {}
