import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { JOB_STATUSES, JobStatus, PageCursor, PageLimit } from '@app/common';
import { ADMIN_JOBS_DEFAULT_PAGE_SIZE, ADMIN_JOBS_MAX_PAGE_SIZE } from '../admin-jobs.service';
import { JobDto } from './generate-content.dto';

export class AdminListJobsQueryDto {
  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES, { message: `status must be one of: ${JOB_STATUSES.join(', ')}` })
  status?: JobStatus;

  @ApiPropertyOptional({ description: "The owner's user id" })
  @IsOptional()
  @Matches(/^[0-9a-fA-F]{24}$/, { message: 'userId must be a user id (24 hexadecimal characters)' })
  @IsString()
  userId?: string;

  @PageLimit(ADMIN_JOBS_MAX_PAGE_SIZE, ADMIN_JOBS_DEFAULT_PAGE_SIZE)
  limit?: number;

  @PageCursor()
  cursor?: string;
}

export class AdminJobDto extends JobDto {
  @ApiProperty({ description: 'Follows the job through the logs of the API and the worker' }) correlationId!: string;
  @ApiPropertyOptional({ description: 'How often an admin queued the job again after it failed' }) retries?: number;
}

export class RetriedJobDto {
  @ApiProperty({ example: 'Job queued again' }) message!: string;
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ enum: ['queued'] }) status!: 'queued';
  @ApiProperty({ description: 'Retries of this job so far, this one included' }) retries!: number;
}

class FinishedCountsDto {
  @ApiProperty() completed!: number;
  @ApiProperty() failed!: number;
}

class DurationDto {
  @ApiProperty({ nullable: true, type: Number }) p50!: number | null;
  @ApiProperty({ nullable: true, type: Number }) p95!: number | null;
  @ApiProperty({ description: 'Completed jobs the percentiles were computed from (the most recent 1000 at most)' }) sampleSize!: number;
}

class RateLimitDto {
  @ApiProperty({ description: 'RATE_LIMIT_MAX' }) max!: number;
  @ApiProperty({ description: 'RATE_LIMIT_DURATION_MS' }) durationMs!: number;
}

export class AdminStatsDto {
  @ApiProperty({
    description: 'Jobs in BullMQ per state',
    example: { waiting: 0, delayed: 2, active: 1, prioritized: 0, 'waiting-children': 0, completed: 40, failed: 1 },
    additionalProperties: { type: 'number' },
  })
  queue!: Record<string, number>;

  @ApiProperty({ type: FinishedCountsDto, description: 'Jobs finished in the last 24 h, per status' }) finishedLast24h!: FinishedCountsDto;
  @ApiProperty({ type: DurationDto, description: 'Job duration in ms over the last 24 h (durationMs, else completedAt - createdAt)' }) durationMs!: DurationDto;
  @ApiProperty({ description: 'Workers connected to the queue' }) workers!: number;
  @ApiProperty({ type: RateLimitDto, nullable: true, description: 'Job starts allowed per window across all workers; null when off' }) rateLimit!: RateLimitDto | null;
}
