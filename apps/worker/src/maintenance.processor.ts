import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, Queue } from 'bullmq';
import { generationConfig, GenerationConfig } from '@app/config';
import { JobReconciler, MAINTENANCE_QUEUE, MaintenanceJobName, ReconcileReport } from '@app/jobs';

const RECONCILE_SCHEDULER = 'reconcile-jobs';

/** Housekeeping on a schedule: BullMQ's job scheduler makes each run happen once across all workers. */
@Processor(MAINTENANCE_QUEUE, { concurrency: 1 })
export class MaintenanceProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(MaintenanceProcessor.name);

  constructor(
    private readonly reconciler: JobReconciler,
    @InjectQueue(MAINTENANCE_QUEUE) private readonly queue: Queue,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    // Not awaited: with Redis down at start the worker still starts, and the schedule lands once Redis is back.
    this.queue
      .upsertJobScheduler(RECONCILE_SCHEDULER, { every: this.config.reconcileIntervalMs }, { name: 'reconcile', data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } })
      .catch((error: Error) => this.logger.error(`Could not schedule the reconciler: ${error.message}`));
  }

  async process(job: Job): Promise<ReconcileReport> {
    const name = job.name as MaintenanceJobName;
    if (name !== 'reconcile') throw new Error(`No handler for maintenance job "${job.name}"`);
    return this.reconciler.run();
  }
}
