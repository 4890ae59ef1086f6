export * from './dto/generate-content.dto';
export * from './failure-policy';
export * from './generation.module';
export * from './generation.service';
export * from './job-reconciler.service';
export * from './job.types';
export * from './jobs.module';
export * from './jobs.service';
