import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import { EnqueuedJobDto, GenerateContentDto, JobDto, JobsService, ListJobsQueryDto, SavedJobDto, SaveJobDto } from '@app/jobs';
import { RequestId } from '../common/request-id';

@ApiTags('generate-content')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('generate-content')
export class GenerateContentController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a generation job; the result arrives later (job_completed over Socket.IO)' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retried POST with the same key returns the first job' })
  @ApiResponse({ status: 202, type: EnqueuedJobDto })
  @ApiResponse({ status: 429, description: 'Too many unfinished jobs' })
  @ApiResponse({ status: 503, description: 'The queue is unavailable; nothing was recorded' })
  enqueue(
    @CurrentUser() user: AuthUser,
    @Body() body: GenerateContentDto,
    @RequestId() requestId: string,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<EnqueuedJobDto> {
    // The request id follows the job through the worker's logs and its socket events.
    return this.jobs.enqueue({ userId: user.id, prompt: body.prompt, contentType: body.contentType, idempotencyKey, correlationId: requestId });
  }

  @Get()
  @ApiOperation({ summary: "The caller's jobs, newest first" })
  @ApiResponse({ status: 200, type: JobDto, isArray: true })
  list(@CurrentUser() user: AuthUser, @Query() query: ListJobsQueryDto): Promise<JobDto[]> {
    return this.jobs.list(user.id, query.limit);
  }

  @Get(':jobId')
  @ApiResponse({ status: 200, type: JobDto })
  @ApiResponse({ status: 404, description: 'No such job of the caller' })
  get(@CurrentUser() user: AuthUser, @Param('jobId') jobId: string): Promise<JobDto> {
    return this.jobs.get(user.id, jobId);
  }

  @Post(':jobId/save')
  @ApiOperation({ summary: "Keep a completed job's text in the content library (idempotent)" })
  @ApiResponse({ status: 201, type: SavedJobDto })
  @ApiResponse({ status: 409, description: 'The job is not completed (currentStatus says what it is)' })
  save(@CurrentUser() user: AuthUser, @Param('jobId') jobId: string, @Body() body: SaveJobDto): Promise<SavedJobDto> {
    return this.jobs.save(user.id, jobId, body.title);
  }
}
