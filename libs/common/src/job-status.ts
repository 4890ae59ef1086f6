/** A job's status: on its record, in the REST answers and in the job_status event (one vocabulary). */
export const JOB_STATUSES = ['queued', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** The statuses a job ends in; `cancelled` only after a user's cancel. */
export const FINISHED_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
