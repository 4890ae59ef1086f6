import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { generationConfig, GenerationConfig } from '@app/config';
import { GENERATION_QUEUE, JobPayloadMap } from './job.types';

const ADD_TIMEOUT_MS = 2000;

/** The only place that adds BullMQ jobs: the BullMQ id is our jobId, so a job is queued once. */
@Injectable()
export class JobQueue {
  constructor(
    @InjectQueue(GENERATION_QUEUE) private readonly queue: Queue,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {
    const logger = new Logger(JobQueue.name);
    let lastError = '';
    // BullMQ reports every failed reconnect; an add() while Redis is down fails on its own (503).
    queue.on('error', (error: Error) => {
      if (error.message !== lastError) logger.warn(`Queue connection: ${error.message}`);
      lastError = error.message;
    });
  }

  async addGeneration(payload: JobPayloadMap['generate'], delayMs: number): Promise<void> {
    const added = this.queue.add('generate', payload, {
      jobId: payload.jobId,
      delay: delayMs,
      attempts: this.config.attempts,
      backoff: { type: 'exponential', delay: this.config.backoffMs },
      // MongoDB is the record; Redis keeps finished jobs only briefly for inspection.
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    // BullMQ waits for a first connection indefinitely; the caller must hear "unavailable" instead. Should
    // the add still land later, the worker finds no record for it and drops it.
    await Promise.race([added, sleep(ADD_TIMEOUT_MS).then(() => Promise.reject(new Error('Queue did not answer in time')))]);
  }
}
