import { Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '@app/metrics';
import { JobQueue } from './job.queue';

/** Lets `aicg_queue_jobs` read BullMQ's counts at scrape time on the API too, so queue depth shows while no worker runs. */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    private readonly queue: JobQueue,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.countQueueWith(() => this.queue.counts());
  }
}
