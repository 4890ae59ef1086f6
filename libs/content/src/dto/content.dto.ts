import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { CONTENT_TYPES, ContentType, normalizeContentType, PageCursor, PageLimit, TokenUsage } from '@app/common';
import { BODY_MAX_LENGTH, MAX_PAGE_SIZE, SEARCH_MAX_LENGTH, TITLE_MAX_LENGTH } from '../content.types';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const toContentType = ({ value }: { value: unknown }) => normalizeContentType(value);
/** Optional on PUT, but an explicit null is validated (and refused) rather than skipped. */
const IsPresent = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

const TYPE_DESCRIPTION = 'An exact content type; the slugs blog-post-outline, blog-post, product-description, social-media-caption are accepted and stored as the exact string';
const TYPE_MESSAGE = `type must be one of: ${CONTENT_TYPES.join(', ')} (or its slug)`;

export class CreateContentDto {
  @ApiProperty({ example: 'Ten tips for remote teams', minLength: 1, maxLength: TITLE_MAX_LENGTH })
  @Transform(trim)
  @MaxLength(TITLE_MAX_LENGTH)
  @MinLength(1, { message: 'title must not be empty' })
  @IsString()
  title!: string;

  @ApiProperty({ enum: CONTENT_TYPES, description: TYPE_DESCRIPTION })
  @Transform(toContentType)
  @IsIn(CONTENT_TYPES, { message: TYPE_MESSAGE })
  type!: ContentType;

  @ApiProperty({ example: '1. Over-communicate...', minLength: 1, maxLength: BODY_MAX_LENGTH })
  @MaxLength(BODY_MAX_LENGTH)
  @Matches(/\S/, { message: 'body must not be empty' })
  @IsString()
  body!: string;
}

export class UpdateContentDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: TITLE_MAX_LENGTH })
  @IsPresent()
  @Transform(trim)
  @MaxLength(TITLE_MAX_LENGTH)
  @MinLength(1, { message: 'title must not be empty' })
  @IsString()
  title?: string;

  @ApiPropertyOptional({ enum: CONTENT_TYPES, description: TYPE_DESCRIPTION })
  @IsPresent()
  @Transform(toContentType)
  @IsIn(CONTENT_TYPES, { message: TYPE_MESSAGE })
  type?: ContentType;

  @ApiPropertyOptional({ minLength: 1, maxLength: BODY_MAX_LENGTH })
  @IsPresent()
  @MaxLength(BODY_MAX_LENGTH)
  @Matches(/\S/, { message: 'body must not be empty' })
  @IsString()
  body?: string;
}

export class ListContentQueryDto {
  @ApiPropertyOptional({ description: 'Literal text matched case-insensitively in title, type and body', maxLength: SEARCH_MAX_LENGTH })
  @IsOptional()
  @MaxLength(SEARCH_MAX_LENGTH)
  @IsString()
  search?: string;

  @PageLimit(MAX_PAGE_SIZE)
  limit?: number;

  @PageCursor()
  cursor?: string;
}

export class ContentItemDto {
  @ApiProperty() _id!: string;
  @ApiProperty() userId!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ enum: CONTENT_TYPES }) type!: ContentType;
  @ApiProperty() body!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
  @ApiPropertyOptional({ description: 'The generation job this item was saved from' }) sourceJobId?: string;
  @ApiPropertyOptional() provider?: string;
  @ApiPropertyOptional() model?: string;
  @ApiPropertyOptional({ type: TokenUsage }) usage?: TokenUsage;
}

export class DeletedContentDto {
  @ApiProperty() id!: string;
}
