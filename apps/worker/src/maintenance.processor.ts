import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, Queue } from 'bullmq';
import { generationConfig, GenerationConfig } from '@app/config';
import { JobReconciler, JobRetention, MAINTENANCE_QUEUE, MaintenanceJobName, ReconcileReport, RetentionReport } from '@app/jobs';

const RECONCILE_SCHEDULER = 'reconcile-jobs';
const CLEANUP_SCHEDULER = 'cleanup-jobs';
const KEEP_RUNS = { removeOnComplete: 100, removeOnFail: 100 };

/** Housekeeping on a schedule: BullMQ's job scheduler makes each run happen once across all workers. */
@Processor(MAINTENANCE_QUEUE, { concurrency: 1 })
export class MaintenanceProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(MaintenanceProcessor.name);

  constructor(
    private readonly reconciler: JobReconciler,
    private readonly retention: JobRetention,
    @InjectQueue(MAINTENANCE_QUEUE) private readonly queue: Queue,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    // Not awaited: with Redis down at start the worker still starts, and the schedule lands once Redis is back.
    this.queue
      .upsertJobScheduler(RECONCILE_SCHEDULER, { every: this.config.reconcileIntervalMs }, { name: 'reconcile', data: {}, opts: KEEP_RUNS })
      .catch((error: Error) => this.logger.error(`Could not schedule the reconciler: ${error.message}`));
    this.queue
      .upsertJobScheduler(CLEANUP_SCHEDULER, { every: this.config.cleanupIntervalMs }, { name: 'cleanup', data: {}, opts: KEEP_RUNS })
      .catch((error: Error) => this.logger.error(`Could not schedule the retention cleanup: ${error.message}`));
  }

  async process(job: Job): Promise<ReconcileReport | RetentionReport> {
    const name = job.name as MaintenanceJobName;
    if (name === 'reconcile') return this.reconciler.run();
    if (name === 'cleanup') return this.retention.run();
    throw new Error(`No handler for maintenance job "${job.name}"`);
  }
}
