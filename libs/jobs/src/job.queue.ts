import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { generationConfig, GenerationConfig } from '@app/config';
import { GENERATION_QUEUE, JobPayloadMap } from './job.types';

/** The only place that adds BullMQ jobs: the BullMQ id is our jobId, so a job is queued once. */
@Injectable()
export class JobQueue {
  constructor(
    @InjectQueue(GENERATION_QUEUE) private readonly queue: Queue,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {}

  async addGeneration(payload: JobPayloadMap['generate'], delayMs: number): Promise<void> {
    await this.queue.add('generate', payload, {
      jobId: payload.jobId,
      delay: delayMs,
      attempts: this.config.attempts,
      backoff: { type: 'exponential', delay: this.config.backoffMs },
      // MongoDB is the record; Redis keeps finished jobs only briefly for inspection.
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }
}
