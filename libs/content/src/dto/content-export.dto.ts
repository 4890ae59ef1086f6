import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { SEARCH_MAX_LENGTH } from '../content.types';
import { EXPORT_FORMATS, EXPORT_MAX_IDS, ExportFormat } from '../export/content-export.types';

const FORMAT_MESSAGE = `format must be one of: ${EXPORT_FORMATS.join(', ')}`;
const IDS_MESSAGE = `ids must be a comma-separated list of 1 to ${EXPORT_MAX_IDS} item ids (24 hex digits each)`;
/** `a,b,c` (and a repeated `ids=`) as one list; anything else is left for the validators to refuse. */
const toIdList = ({ value }: { value: unknown }) => {
  const parts = Array.isArray(value) ? value : [value];
  return parts.every((part) => typeof part === 'string') ? (parts as string[]).flatMap((part) => part.split(',')).map((id) => id.trim()) : value;
};

export class ExportItemQueryDto {
  @ApiProperty({ enum: EXPORT_FORMATS })
  @IsIn(EXPORT_FORMATS, { message: FORMAT_MESSAGE })
  format!: ExportFormat;
}

export class ExportContentQueryDto extends ExportItemQueryDto {
  @ApiPropertyOptional({ description: 'Literal text matched case-insensitively in title, type and body (not with ids)', maxLength: SEARCH_MAX_LENGTH })
  @IsOptional()
  @MaxLength(SEARCH_MAX_LENGTH)
  @IsString()
  search?: string;

  @ApiPropertyOptional({
    type: String,
    description: `Comma-separated item ids, at most ${EXPORT_MAX_IDS}; ids of other users' (or deleted) items are left out of the file`,
    example: '6650a1b2c3d4e5f6a7b8c9d0,6650a1b2c3d4e5f6a7b8c9d1',
  })
  @IsOptional()
  @Transform(toIdList)
  @Matches(/^[0-9a-fA-F]{24}$/, { each: true, message: IDS_MESSAGE })
  @ArrayMaxSize(EXPORT_MAX_IDS, { message: IDS_MESSAGE })
  @ArrayMinSize(1, { message: IDS_MESSAGE })
  @IsArray({ message: IDS_MESSAGE })
  ids?: string[];
}
