/** A job's status: on its record, in the REST answers and in the job_status event (one vocabulary). */
export const JOB_STATUSES = ['queued', 'processing', 'completed', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
