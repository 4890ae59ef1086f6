import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf, ValidateNested } from 'class-validator';
import { CONTENT_TYPES, ContentType, normalizeContentType } from '@app/common';
import {
  MAX_VARIABLES,
  TEMPLATE_NAME_MAX_LENGTH,
  TEMPLATE_PROMPT_MAX_LENGTH,
  VARIABLE_DESCRIPTION_MAX_LENGTH,
  VARIABLE_NAME,
  VARIABLE_VALUE_MAX_LENGTH,
} from '../template.types';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const toContentType = ({ value }: { value: unknown }) => normalizeContentType(value);
/** Optional, but an explicit null is validated (and refused) rather than skipped. */
const IsPresent = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

const TYPE_DESCRIPTION = 'An exact content type; the slugs blog-post-outline, blog-post, product-description, social-media-caption are accepted and stored as the exact string';
const TYPE_MESSAGE = `contentType must be one of: ${CONTENT_TYPES.join(', ')} (or its slug)`;
const PROMPT_DESCRIPTION =
  'Instructions with {{name}} placeholders ({{ name }} works too). Every placeholder must be a declared variable and every variable must be used; values are substituted as plain text, nothing is evaluated';
const VARIABLES_DESCRIPTION = `At most ${MAX_VARIABLES}, names unique`;

export class TemplateVariableInputDto {
  @ApiProperty({ example: 'targetKeyword', pattern: VARIABLE_NAME.source, description: 'A letter, then up to 39 letters, digits or underscores' })
  @Matches(VARIABLE_NAME, { message: 'name must start with a letter and hold at most 40 letters, digits or underscores' })
  @IsString()
  name!: string;

  @ApiPropertyOptional({ example: 'The search phrase the post should rank for', maxLength: VARIABLE_DESCRIPTION_MAX_LENGTH })
  @IsPresent()
  @Transform(trim)
  @MaxLength(VARIABLE_DESCRIPTION_MAX_LENGTH)
  @IsString()
  description?: string;

  @ApiPropertyOptional({ description: 'Left out: required unless a default is given. A required variable takes no default' })
  @IsPresent()
  @IsBoolean()
  required?: boolean;

  @ApiPropertyOptional({ description: 'The value of an optional variable the caller leaves out or empty', maxLength: VARIABLE_VALUE_MAX_LENGTH })
  @IsPresent()
  @MaxLength(VARIABLE_VALUE_MAX_LENGTH)
  @IsString()
  default?: string;
}

export class CreateTemplateDto {
  @ApiProperty({ example: 'Weekly newsletter intro', minLength: 1, maxLength: TEMPLATE_NAME_MAX_LENGTH })
  @Transform(trim)
  @MaxLength(TEMPLATE_NAME_MAX_LENGTH)
  @MinLength(1, { message: 'name must not be empty' })
  @IsString()
  name!: string;

  @ApiProperty({ enum: CONTENT_TYPES, description: TYPE_DESCRIPTION })
  @Transform(toContentType)
  @IsIn(CONTENT_TYPES, { message: TYPE_MESSAGE })
  contentType!: ContentType;

  @ApiProperty({ example: 'Outline a post about {{topic}} for {{audience}}.', maxLength: TEMPLATE_PROMPT_MAX_LENGTH, description: PROMPT_DESCRIPTION })
  @MaxLength(TEMPLATE_PROMPT_MAX_LENGTH)
  @Matches(/\S/, { message: 'prompt must not be empty' })
  @IsString()
  prompt!: string;

  @ApiPropertyOptional({ type: [TemplateVariableInputDto], maxItems: MAX_VARIABLES, description: VARIABLES_DESCRIPTION })
  @IsPresent()
  @ValidateNested({ each: true })
  @Type(() => TemplateVariableInputDto)
  @ArrayMaxSize(MAX_VARIABLES)
  @IsArray()
  variables?: TemplateVariableInputDto[];
}

export class UpdateTemplateDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: TEMPLATE_NAME_MAX_LENGTH })
  @IsPresent()
  @Transform(trim)
  @MaxLength(TEMPLATE_NAME_MAX_LENGTH)
  @MinLength(1, { message: 'name must not be empty' })
  @IsString()
  name?: string;

  @ApiPropertyOptional({ enum: CONTENT_TYPES, description: TYPE_DESCRIPTION })
  @IsPresent()
  @Transform(toContentType)
  @IsIn(CONTENT_TYPES, { message: TYPE_MESSAGE })
  contentType?: ContentType;

  @ApiPropertyOptional({ maxLength: TEMPLATE_PROMPT_MAX_LENGTH, description: PROMPT_DESCRIPTION })
  @IsPresent()
  @MaxLength(TEMPLATE_PROMPT_MAX_LENGTH)
  @Matches(/\S/, { message: 'prompt must not be empty' })
  @IsString()
  prompt?: string;

  @ApiPropertyOptional({ type: [TemplateVariableInputDto], maxItems: MAX_VARIABLES, description: `Replaces the whole list. ${VARIABLES_DESCRIPTION}` })
  @IsPresent()
  @ValidateNested({ each: true })
  @Type(() => TemplateVariableInputDto)
  @ArrayMaxSize(MAX_VARIABLES)
  @IsArray()
  variables?: TemplateVariableInputDto[];
}

export class ListTemplatesQueryDto {
  @ApiPropertyOptional({ enum: CONTENT_TYPES, description: `Only templates of this content type. ${TYPE_DESCRIPTION}` })
  @IsOptional()
  @Transform(toContentType)
  @IsIn(CONTENT_TYPES, { message: TYPE_MESSAGE })
  contentType?: ContentType;
}

export class TemplateVariableDto {
  @ApiProperty() name!: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty() required!: boolean;
  @ApiPropertyOptional() default?: string;
}

export class TemplateDto {
  @ApiProperty({ description: 'A slug such as seo-blog-outline for a built-in template, an ObjectId for your own' }) _id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: CONTENT_TYPES }) contentType!: ContentType;
  @ApiProperty({ description: 'With {{name}} placeholders' }) prompt!: string;
  @ApiProperty({ type: [TemplateVariableDto] }) variables!: TemplateVariableDto[];
  @ApiProperty({ description: 'Built-in templates are shared and read-only' }) builtIn!: boolean;
}

export class DeletedTemplateDto {
  @ApiProperty() id!: string;
}
