import { JobRecord } from './job.repository';

/** A job record as a worker holds it mid-run, for unit specs (not built into dist: see .swcrc). */
export const processingJobRecord: JobRecord = {
  _id: 'job-1',
  jobId: 'job-1',
  userId: '64b7f0c2a1b2c3d4e5f60718',
  prompt: 'A prompt',
  contentType: 'Blog Post Outline',
  status: 'processing',
  scheduledFor: new Date('2026-01-01T00:00:00Z'),
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:00Z'),
  attempts: 1,
  correlationId: 'corr-1',
};
