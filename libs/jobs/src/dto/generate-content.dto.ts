import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import {
  AUDIENCE_MAX_LENGTH,
  CONTENT_TYPES,
  ContentType,
  GenerationOptions,
  KEYWORD_MAX_LENGTH,
  Length,
  LENGTHS,
  MAX_KEYWORDS,
  MAX_VARIANTS,
  MAX_WORDS,
  MIN_WORDS,
  normalizeContentType,
  PageCursor,
  PageLimit,
  Platform,
  PLATFORMS,
  TokenUsage,
  Tone,
  TONES,
} from '@app/common';
import { canonicalLanguageTag, IsLanguageTag, IsStringRecord } from './option-validators';
import { ContentItemDto, TITLE_MAX_LENGTH } from '@app/content';

export class GenerationOptionsDto implements GenerationOptions {
  @ApiPropertyOptional({ enum: TONES })
  @IsOptional()
  @IsIn(TONES, { message: `options.tone must be one of: ${TONES.join(', ')}` })
  tone?: Tone;

  @ApiPropertyOptional({ example: 'pt-BR', description: 'A BCP 47 language tag; the answer is written in that language' })
  @IsOptional()
  @Transform(({ value }) => canonicalLanguageTag(value) ?? value)
  @IsLanguageTag()
  language?: string;

  @ApiPropertyOptional({ enum: LENGTHS })
  @IsOptional()
  @IsIn(LENGTHS, { message: `options.length must be one of: ${LENGTHS.join(', ')}` })
  length?: Length;

  @ApiPropertyOptional({ minimum: MIN_WORDS, maximum: MAX_WORDS, description: 'A hard cap on the words of each answer' })
  @IsOptional()
  @Max(MAX_WORDS, { message: `options.maxWords must be an integer between ${MIN_WORDS} and ${MAX_WORDS}` })
  @Min(MIN_WORDS, { message: `options.maxWords must be an integer between ${MIN_WORDS} and ${MAX_WORDS}` })
  @IsInt({ message: `options.maxWords must be an integer between ${MIN_WORDS} and ${MAX_WORDS}` })
  maxWords?: number;

  @ApiPropertyOptional({ maxLength: AUDIENCE_MAX_LENGTH, example: 'busy parents of toddlers' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @MaxLength(AUDIENCE_MAX_LENGTH, { message: `options.audience must be at most ${AUDIENCE_MAX_LENGTH} characters` })
  @MinLength(1, { message: 'options.audience must not be empty' })
  @IsString({ message: 'options.audience must be a string' })
  audience?: string;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_KEYWORDS })
  @IsOptional()
  @Transform(({ value }) => (Array.isArray(value) ? value.map((keyword) => (typeof keyword === 'string' ? keyword.trim() : keyword)) : value))
  @MaxLength(KEYWORD_MAX_LENGTH, { each: true, message: `options.keywords must each be 1-${KEYWORD_MAX_LENGTH} characters` })
  @MinLength(1, { each: true, message: `options.keywords must each be 1-${KEYWORD_MAX_LENGTH} characters` })
  @IsString({ each: true, message: 'options.keywords must be strings' })
  @ArrayMaxSize(MAX_KEYWORDS, { message: `options.keywords must hold at most ${MAX_KEYWORDS} keywords` })
  @IsArray({ message: 'options.keywords must be an array of strings' })
  keywords?: string[];

  @ApiPropertyOptional({ enum: PLATFORMS, description: 'Social Media Caption only: the caption fits this platform' })
  @IsOptional()
  @IsIn(PLATFORMS, { message: `options.platform must be one of: ${PLATFORMS.join(', ')}` })
  platform?: Platform;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_VARIANTS, default: 1, description: 'Answers in one job: `variants` on the job, `generatedContent` is the first' })
  @IsOptional()
  @Max(MAX_VARIANTS, { message: `options.variants must be an integer between 1 and ${MAX_VARIANTS}` })
  @Min(1, { message: `options.variants must be an integer between 1 and ${MAX_VARIANTS}` })
  @IsInt({ message: `options.variants must be an integer between 1 and ${MAX_VARIANTS}` })
  variants?: number;

  @ApiPropertyOptional({ example: 'openai/gpt-4o-mini', description: 'One of LLM_ALLOWED_MODELS' })
  @IsOptional()
  @MaxLength(200, { message: 'options.model must be at most 200 characters' })
  @IsString({ message: 'options.model must be a string' })
  model?: string;
}

export class GenerateContentDto {
  // The length limit is MAX_PROMPT_LENGTH, configuration a decorator cannot read: JobsService checks it,
  // and that prompt is required unless a template renders it.
  @ApiPropertyOptional({ example: 'A launch post for our solar backpack', description: 'At most MAX_PROMPT_LENGTH characters (default 4000); omitted with templateId' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  prompt?: string;

  @ApiPropertyOptional({ enum: CONTENT_TYPES, description: "Exact string, or a slug: blog-post-outline, blog-post, product-description, social-media-caption; optional with templateId (the template's)" })
  @IsOptional()
  @Transform(({ value }) => normalizeContentType(value))
  @IsIn(CONTENT_TYPES, { message: `contentType must be one of: ${CONTENT_TYPES.join(', ')}` })
  contentType?: ContentType;

  @ApiPropertyOptional({ example: 'seo-blog-outline', description: 'Render the prompt from this template (GET /templates)' })
  @IsOptional()
  @MaxLength(100, { message: 'templateId must be at most 100 characters' })
  @IsString({ message: 'templateId must be a string' })
  templateId?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { topic: 'Remote work', keyword: 'remote work tips' } })
  @IsOptional()
  @IsStringRecord()
  variables?: Record<string, string>;

  @ApiPropertyOptional({ type: GenerationOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => GenerationOptionsDto)
  @IsObject({ message: 'options must be an object' })
  options?: GenerationOptionsDto;
}

export class SaveJobDto {
  @ApiPropertyOptional({ example: 'Launch post', maxLength: TITLE_MAX_LENGTH })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @MaxLength(TITLE_MAX_LENGTH)
  @MinLength(1, { message: 'title must not be empty' })
  @IsString()
  title?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_VARIANTS - 1, default: 0, description: "Which of the job's `variants` to keep (0 = the first, `generatedContent`)" })
  @IsOptional()
  @Max(MAX_VARIANTS - 1, { message: `variant must be an integer between 0 and ${MAX_VARIANTS - 1}` })
  @Min(0, { message: `variant must be an integer between 0 and ${MAX_VARIANTS - 1}` })
  @IsInt({ message: `variant must be an integer between 0 and ${MAX_VARIANTS - 1}` })
  variant?: number;
}

export class ListJobsQueryDto {
  @PageLimit(100)
  limit?: number;

  @PageCursor()
  cursor?: string;
}

export class EnqueuedJobDto {
  @ApiProperty() message!: string;
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ enum: ['queued'] }) status!: 'queued';
  @ApiProperty() delaySeconds!: number;
  @ApiProperty() scheduledFor!: Date;
  @ApiProperty() estimatedCompletionTime!: Date;
}

export class JobValidationDto {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ type: [String] }) problems!: string[];
}

export class OutlineSectionDto {
  @ApiProperty() heading!: string;
  @ApiProperty({ type: [String] }) points!: string[];
}

export class ProductCopyDto {
  @ApiProperty() headline!: string;
  @ApiProperty() body!: string;
  @ApiProperty({ type: [String] }) bullets!: string[];
}

export class JobDto {
  @ApiProperty({ description: 'Equal to jobId' }) _id!: string;
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty() userId!: string;
  @ApiProperty() prompt!: string;
  @ApiProperty({ enum: CONTENT_TYPES }) contentType!: ContentType;
  @ApiProperty({ enum: ['queued', 'processing', 'completed', 'failed', 'cancelled'], description: '`cancelled` only after a cancel' }) status!: string;
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
  @ApiPropertyOptional({ type: GenerationOptionsDto }) options?: GenerationOptionsDto;
  @ApiPropertyOptional({ description: 'The template `prompt` was rendered from' }) templateId?: string;
  @ApiPropertyOptional({ type: [String], description: 'Every answer when options.variants > 1; generatedContent is the first' }) variants?: string[];
  @ApiPropertyOptional({ type: () => JobValidationDto, description: "Whether the answer keeps its content type's output contract" }) validation?: JobValidationDto;
  @ApiPropertyOptional({ type: () => [OutlineSectionDto], description: 'Blog Post Outline: the sections of generatedContent' }) outline?: OutlineSectionDto[];
  @ApiPropertyOptional({ type: () => ProductCopyDto, description: 'Product Description: generatedContent in its parts' }) product?: ProductCopyDto;
  @ApiPropertyOptional({ description: 'When it was cancelled' }) cancelledAt?: Date;
}

export class SavedJobDto {
  @ApiProperty({ example: 'Content saved to your library' }) message!: string;
  @ApiProperty({ type: ContentItemDto }) content!: ContentItemDto;
}

export class CancelledJobDto {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ enum: ['cancelled'] }) status!: 'cancelled';
}

export class DeletedJobDto {
  @ApiProperty({ format: 'uuid', description: 'The deleted job (library items saved from it stay)' }) id!: string;
}
