import { Controller, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AdminGuard, AdminUserDto, AuthService, JwtAuthGuard, ListUsersQueryDto, UserStatusChangedDto } from '@app/auth';
import { AdminJobDto, AdminJobsService, AdminListJobsQueryDto, AdminStatsDto, RetriedJobDto } from '@app/jobs';
import { HeaderReply, setNextPage } from '../common/paged-list';

const NEXT_CURSOR_HEADER = { 'X-Next-Cursor': { description: 'Cursor of the next page, when there is one' } };

/** Operations for the accounts listed in ADMIN_EMAILS: every user's jobs, the queue's numbers, users. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard, AdminGuard)
@ApiResponse({ status: 401, description: 'No valid token' })
@ApiResponse({ status: 403, description: 'The caller is not an admin' })
@Controller('admin')
export class AdminController {
  constructor(
    private readonly jobs: AdminJobsService,
    private readonly auth: AuthService,
  ) {}

  @Get('jobs')
  @ApiOperation({ summary: "Every user's jobs, newest first; X-Next-Cursor and Link rel=next point to the next page" })
  @ApiResponse({ status: 200, type: [AdminJobDto], headers: NEXT_CURSOR_HEADER })
  async listJobs(@Query() query: AdminListJobsQueryDto, @Res({ passthrough: true }) reply: HeaderReply): Promise<AdminJobDto[]> {
    const page = await this.jobs.list(query);
    if (page.nextCursor) setNextPage(reply, 'jobs', { status: query.status, userId: query.userId, limit: query.limit }, page.nextCursor);
    return page.jobs;
  }

  @Get('stats')
  @ApiOperation({ summary: 'Queue counts, jobs finished and their duration over the last 24 h, workers, the rate limit' })
  @ApiResponse({ status: 200, type: AdminStatsDto })
  stats(): Promise<AdminStatsDto> {
    return this.jobs.stats();
  }

  @Get('jobs/:jobId')
  @ApiResponse({ status: 200, type: AdminJobDto })
  @ApiResponse({ status: 404, description: 'No such job' })
  getJob(@Param('jobId') jobId: string): Promise<AdminJobDto> {
    return this.jobs.get(jobId);
  }

  @Post('jobs/:jobId/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a failed job again under the same jobId (announced as job_status queued)' })
  @ApiResponse({ status: 202, type: RetriedJobDto })
  @ApiResponse({ status: 404, description: 'No such job' })
  @ApiResponse({ status: 409, description: 'The job is not failed (currentStatus says what it is)' })
  @ApiResponse({ status: 429, description: 'The owner is at MAX_ACTIVE_JOBS_PER_USER unfinished jobs' })
  retryJob(@Param('jobId') jobId: string): Promise<RetriedJobDto> {
    return this.jobs.retry(jobId);
  }

  @Get('users')
  @ApiOperation({ summary: 'Users, newest first, `search` in name and email; X-Next-Cursor and Link rel=next point to the next page' })
  @ApiResponse({ status: 200, type: [AdminUserDto], headers: NEXT_CURSOR_HEADER })
  async listUsers(@Query() query: ListUsersQueryDto, @Res({ passthrough: true }) reply: HeaderReply): Promise<AdminUserDto[]> {
    const page = await this.auth.listUsers(query);
    if (page.nextCursor) setNextPage(reply, 'users', { search: query.search, limit: query.limit }, page.nextCursor);
    return page.users;
  }

  @Post('users/:id/deactivate')
  @HttpCode(200)
  @ApiOperation({ summary: "Refuse the user's tokens on every instance and disconnect its sockets" })
  @ApiResponse({ status: 200, type: UserStatusChangedDto })
  @ApiResponse({ status: 404, description: 'No such user' })
  async deactivate(@Param('id') id: string): Promise<UserStatusChangedDto> {
    await this.auth.setStatus(id, 'inactive');
    return { _id: id, status: 'inactive' };
  }

  @Post('users/:id/activate')
  @HttpCode(200)
  @ApiResponse({ status: 200, type: UserStatusChangedDto })
  @ApiResponse({ status: 404, description: 'No such user' })
  async activate(@Param('id') id: string): Promise<UserStatusChangedDto> {
    await this.auth.setStatus(id, 'active');
    return { _id: id, status: 'active' };
  }
}
