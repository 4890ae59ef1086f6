import { Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiResponse, ApiTags, getSchemaPath, ApiExtraModels } from '@nestjs/swagger';
import { AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import { BatchItemsDocDto, BatchService, CreatedBatchDto } from '@app/jobs';
import { RequestId } from '../common/request-id';

/** POST /generate-content/batch (its own class: a static path, never shadowed by GenerateContentController's `:jobId` routes). */
@ApiTags('generate-content')
@ApiBearerAuth()
@ApiExtraModels(BatchItemsDocDto)
@UseGuards(JwtAuthGuard)
@Controller('generate-content')
export class BatchGenerateController {
  constructor(private readonly batches: BatchService) {}

  @Post('batch')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Queue up to MAX_BATCH_ITEMS jobs at once, all or none: JSON { items } or a text/csv file (header row: prompt, contentType, templateId, var:<name>)',
  })
  @ApiConsumes('application/json', 'text/csv')
  @ApiBody({ schema: { oneOf: [{ $ref: getSchemaPath(BatchItemsDocDto) }, { type: 'string', example: 'prompt,contentType\n"Hello, world",blog-post\n' }] } })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retried POST with the same key and body returns the first batch' })
  @ApiResponse({ status: 202, type: CreatedBatchDto })
  @ApiResponse({ status: 400, description: 'A bad item: details name it items[<0-based index>].<field> (CSV rows too, with their line); nothing was queued' })
  @ApiResponse({ status: 429, description: 'The batch would pass MAX_BATCH_JOBS_PER_USER unfinished batch jobs or the per-user job windows (each item counts; Retry-After, RateLimit-*), or the daily token budget is used up; nothing was queued' })
  create(@CurrentUser() user: AuthUser, @Body() body: unknown, @RequestId() requestId: string, @Headers('idempotency-key') idempotencyKey?: string): Promise<CreatedBatchDto> {
    // The text/csv parser hands this route the raw text; JSON arrives parsed.
    const input = typeof body === 'string' ? { csv: body } : { json: body };
    return this.batches.create({ userId: user.id, input, idempotencyKey, correlationId: requestId });
  }
}
