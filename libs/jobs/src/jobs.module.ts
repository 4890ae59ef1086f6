import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { ConfigModule } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import { generationConfig, realtimeConfig, redisConfig, RedisConfig } from '@app/config';
import { ContentModule } from '@app/content';
import { OpenRouterModule } from '@app/openrouter';
import { PubSubModule } from '@app/pubsub';
import { GenerationService } from './generation.service';
import { JobQueue } from './job.queue';
import { JobRepository } from './job.repository';
import { Job, JobSchema } from './job.schema';
import { GENERATION_QUEUE } from './job.types';
import { JobsService } from './jobs.service';

const jobModel = MongooseModule.forFeature([{ name: Job.name, schema: JobSchema }]);

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
    jobModel,
    ContentModule,
  ],
  providers: [JobsService, JobRepository, JobQueue],
  exports: [JobsService],
})
export class JobsModule {}

/** The worker side: run generations and announce their outcome. */
@Module({
  imports: [
    ConfigModule.forFeature(generationConfig),
    ConfigModule.forFeature(realtimeConfig),
    jobModel,
    bullWorkerRoot,
    BullModule.registerQueue({ name: GENERATION_QUEUE }),
    OpenRouterModule,
    PubSubModule,
  ],
  providers: [GenerationService, JobRepository],
  exports: [GenerationService, BullModule],
})
export class GenerationModule {}
