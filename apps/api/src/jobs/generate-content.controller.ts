import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Res, StreamableFile, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import { CancelledJobDto, DeletedJobDto, EnqueuedJobDto, GenerateContentDto, JobCancellation, JobDto, JobsService, ListJobsQueryDto, SavedJobDto, SaveJobDto } from '@app/jobs';
import { HeaderReply, NEXT_PAGE_HEADERS, streamedList } from '../common/paged-list';
import { RequestId } from '../common/request-id';

@ApiTags('generate-content')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('generate-content')
export class GenerateContentController {
  constructor(
    private readonly jobs: JobsService,
    private readonly cancellation: JobCancellation,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a generation job; the result arrives later (job_completed over Socket.IO)' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retried POST with the same key returns the first job' })
  @ApiResponse({ status: 202, type: EnqueuedJobDto })
  @ApiResponse({ status: 400, description: 'A field is wrong (named in details): unknown template or variable, a model outside LLM_ALLOWED_MODELS, ...; nothing was queued' })
  @ApiResponse({ status: 429, description: 'Too many unfinished jobs (MAX_ACTIVE_JOBS_PER_USER), past USER_JOBS_PER_MINUTE / USER_JOBS_PER_DAY (Retry-After, RateLimit-*), or the daily token budget is used up' })
  @ApiResponse({ status: 503, description: 'The queue is unavailable; nothing was recorded' })
  enqueue(
    @CurrentUser() user: AuthUser,
    @Body() body: GenerateContentDto,
    @RequestId() requestId: string,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<EnqueuedJobDto> {
    // The request id follows the job through the worker's logs and its socket events.
    const { prompt, contentType, templateId, variables, options } = body;
    return this.jobs.enqueue({ userId: user.id, prompt, contentType, templateId, variables, options, idempotencyKey, correlationId: requestId });
  }

  @Get()
  @ApiOperation({ summary: "The caller's jobs, newest first: all of them without `limit` (up to LIST_MAX_ITEMS); X-Next-Cursor and Link rel=next point on" })
  @ApiResponse({ status: 200, type: JobDto, isArray: true, headers: NEXT_PAGE_HEADERS })
  async list(@CurrentUser() user: AuthUser, @Query() query: ListJobsQueryDto, @Res({ passthrough: true }) reply: HeaderReply): Promise<StreamableFile> {
    const page = await this.jobs.list(user.id, query);
    return streamedList(reply, page, 'generate-content', { limit: query.limit });
  }

  @Get(':jobId')
  @ApiResponse({ status: 200, type: JobDto })
  @ApiResponse({ status: 404, description: 'No such job of the caller' })
  get(@CurrentUser() user: AuthUser, @Param('jobId') jobId: string): Promise<JobDto> {
    return this.jobs.get(user.id, jobId);
  }

  @Post(':jobId/save')
  @ApiOperation({ summary: "Keep a completed job's text (or one of its variants) in the content library (idempotent)" })
  @ApiResponse({ status: 201, type: SavedJobDto })
  @ApiResponse({ status: 409, description: 'The job is not completed (currentStatus says what it is)' })
  save(@CurrentUser() user: AuthUser, @Param('jobId') jobId: string, @Body() body: SaveJobDto): Promise<SavedJobDto> {
    return this.jobs.save(user.id, jobId, body);
  }

  @Post(':jobId/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a queued or processing job: it never runs, or its LLM call is stopped; job_status cancelled follows' })
  @ApiResponse({ status: 200, type: CancelledJobDto })
  @ApiResponse({ status: 404, description: 'No such job of the caller' })
  @ApiResponse({ status: 409, description: 'The job already finished (currentStatus says how: completed, failed or cancelled)' })
  cancel(@CurrentUser() user: AuthUser, @Param('jobId') jobId: string): Promise<CancelledJobDto> {
    return this.cancellation.cancel(user.id, jobId);
  }

  @Delete(':jobId')
  @ApiOperation({ summary: 'Delete a job (cancelled first if unfinished); library items saved from it stay' })
  @ApiResponse({ status: 200, type: DeletedJobDto })
  @ApiResponse({ status: 404, description: 'No such job of the caller' })
  delete(@CurrentUser() user: AuthUser, @Param('jobId') jobId: string): Promise<DeletedJobDto> {
    return this.cancellation.delete(user.id, jobId);
  }
}
