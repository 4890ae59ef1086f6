import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** `limit` of a paged list: an integer from 1 to `max`, with one message naming the field and the range. */
export function PageLimit(max: number, defaultSize: number): PropertyDecorator {
  const message = `limit must be an integer between 1 and ${max}`;
  return applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: max, default: defaultSize }),
    IsOptional(),
    Type(() => Number),
    Max(max, { message }),
    Min(1, { message }),
    IsInt({ message }),
  );
}

/** `cursor` of a paged list: the X-Next-Cursor header of the previous page. */
export function PageCursor(): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ description: 'The X-Next-Cursor header of the previous page' }), IsOptional(), MaxLength(200), IsString());
}
