export * from './dto/generate-content.dto';
export * from './generation.service';
export * from './job.types';
export * from './jobs.module';
export * from './jobs.service';
