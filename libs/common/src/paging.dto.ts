import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/**
 * `limit` of a paged list: an integer from 1 to `max`, with one message naming the field and the range.
 * Without a default size, a list asked for without `limit` is the whole list (up to LIST_MAX_ITEMS).
 */
export function PageLimit(max: number, defaultSize?: number): PropertyDecorator {
  const message = `limit must be an integer between 1 and ${max}`;
  const documented = defaultSize === undefined ? { description: 'Without it: every item, up to LIST_MAX_ITEMS, then a Link rel="next"' } : { default: defaultSize };
  return applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: max, ...documented }),
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
