import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { generationConfig, redisConfig } from '@app/config';
import { ContentModule } from '@app/content';
import { IdempotencyRepository } from './idempotency.repository';
import { JobSlotsRepository } from './job-slots.repository';
import { JobQueue } from './job.queue';
import { JobRepository } from './job.repository';
import { jobModels } from './job.schema';
import { JobsService } from './jobs.service';

/** The API side: enqueue, read and save jobs. Needs the global RedisModule. */
@Module({
  imports: [ConfigModule.forFeature(generationConfig), ConfigModule.forFeature(redisConfig), jobModels, ContentModule],
  providers: [JobsService, JobRepository, JobSlotsRepository, IdempotencyRepository, JobQueue],
  exports: [JobsService],
})
export class JobsModule {}
