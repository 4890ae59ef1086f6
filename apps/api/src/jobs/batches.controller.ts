import { Controller, Get, HttpCode, Param, Post, Query, Res, StreamableFile, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import { BatchDto, BatchExportQueryDto, BatchService, BatchSummaryDto, CancelledBatchDto } from '@app/jobs';
import { HeaderReply } from '../common/paged-list';

@ApiTags('batches')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('batches')
export class BatchesController {
  constructor(private readonly batches: BatchService) {}

  @Get()
  @ApiOperation({ summary: "The caller's batches, newest first (up to 100), with their counts" })
  @ApiResponse({ status: 200, type: BatchSummaryDto, isArray: true })
  list(@CurrentUser() user: AuthUser): Promise<BatchSummaryDto[]> {
    return this.batches.list(user.id);
  }

  @Get(':batchId')
  @ApiResponse({ status: 200, type: BatchDto })
  @ApiResponse({ status: 404, description: 'No such batch of the caller' })
  get(@CurrentUser() user: AuthUser, @Param('batchId') batchId: string): Promise<BatchDto> {
    return this.batches.get(user.id, batchId);
  }

  @Post(':batchId/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel every unfinished job of the batch; batch_completed follows once all have ended' })
  @ApiResponse({ status: 200, type: CancelledBatchDto })
  @ApiResponse({ status: 404, description: 'No such batch of the caller' })
  cancel(@CurrentUser() user: AuthUser, @Param('batchId') batchId: string): Promise<CancelledBatchDto> {
    return this.batches.cancel(user.id, batchId);
  }

  @Get(':batchId/export')
  @ApiOperation({ summary: "The batch's results as a download: index, jobId, status, prompt, contentType, generatedContent, error, variants (CSV cells starting with = + - @ get a leading ')" })
  @ApiProduces('text/csv', 'application/json')
  @ApiResponse({ status: 200, description: 'Content-Disposition: attachment' })
  @ApiResponse({ status: 404, description: 'No such batch of the caller' })
  async export(@CurrentUser() user: AuthUser, @Param('batchId') batchId: string, @Query() query: BatchExportQueryDto, @Res({ passthrough: true }) reply: HeaderReply): Promise<StreamableFile> {
    const file = await this.batches.export(user.id, batchId, query.format);
    reply.header('Content-Type', file.contentType);
    reply.header('Content-Disposition', `attachment; filename="${file.filename}"`);
    reply.header('X-Content-Type-Options', 'nosniff');
    return new StreamableFile(Buffer.from(file.body, 'utf8'));
  }
}
