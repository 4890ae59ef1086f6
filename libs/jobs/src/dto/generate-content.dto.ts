import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { CONTENT_TYPES, ContentType, normalizeContentType, TokenUsage } from '@app/common';
import { ContentItemDto, TITLE_MAX_LENGTH } from '@app/content';

export class GenerateContentDto {
  // The length limit is MAX_PROMPT_LENGTH, configuration a decorator cannot read: JobsService checks it.
  @ApiProperty({ example: 'A launch post for our solar backpack', description: 'At most MAX_PROMPT_LENGTH characters (default 4000)' })
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @MinLength(1, { message: 'prompt must not be empty' })
  @IsString()
  prompt!: string;

  @ApiProperty({ enum: CONTENT_TYPES, description: 'Exact string, or a slug: blog-post-outline, blog-post, product-description, social-media-caption' })
  @Transform(({ value }) => normalizeContentType(value))
  @IsIn(CONTENT_TYPES, { message: `contentType must be one of: ${CONTENT_TYPES.join(', ')}` })
  contentType!: ContentType;
}

export class SaveJobDto {
  @ApiPropertyOptional({ example: 'Launch post', maxLength: TITLE_MAX_LENGTH })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @MaxLength(TITLE_MAX_LENGTH)
  @MinLength(1, { message: 'title must not be empty' })
  @IsString()
  title?: string;
}

export class ListJobsQueryDto {
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 100 })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @Max(100)
  @Min(1)
  @IsInt({ message: 'limit must be an integer between 1 and 100' })
  limit?: number;
}

export class EnqueuedJobDto {
  @ApiProperty() message!: string;
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ enum: ['queued'] }) status!: 'queued';
  @ApiProperty() delaySeconds!: number;
  @ApiProperty() scheduledFor!: Date;
  @ApiProperty() estimatedCompletionTime!: Date;
}

export class JobDto {
  @ApiProperty({ description: 'Equal to jobId' }) _id!: string;
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty() userId!: string;
  @ApiProperty() prompt!: string;
  @ApiProperty({ enum: CONTENT_TYPES }) contentType!: ContentType;
  @ApiProperty({ enum: ['queued', 'processing', 'completed', 'failed'] }) status!: string;
  @ApiProperty() scheduledFor!: Date;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
  @ApiPropertyOptional({ description: 'Once completed' }) generatedContent?: string;
  @ApiPropertyOptional({ description: 'Once completed or failed' }) completedAt?: Date;
  @ApiPropertyOptional({ description: 'Once failed: a short, safe reason' }) error?: string;
  @ApiProperty({ description: 'Attempts started so far' }) attempts!: number;
  @ApiPropertyOptional({ enum: ['openrouter', 'offline'] }) provider?: string;
  @ApiPropertyOptional({ description: 'The model that actually answered' }) model?: string;
  @ApiPropertyOptional({ type: TokenUsage }) usage?: TokenUsage;
  @ApiPropertyOptional() durationMs?: number;
  @ApiPropertyOptional() finishReason?: string;
  @ApiPropertyOptional({ description: 'The OpenTelemetry trace of the request that created the job (when tracing is on)' }) traceId?: string;
}

export class SavedJobDto {
  @ApiProperty({ example: 'Content saved to your library' }) message!: string;
  @ApiProperty({ type: ContentItemDto }) content!: ContentItemDto;
}
