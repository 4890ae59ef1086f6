import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { CLIENT_EVENT_NAMES, ClientEventName } from '../client-events';
import { NOTIFICATIONS_DEFAULT_LIMIT, NOTIFICATIONS_MAX_LIMIT } from '../notifications.service';

export class ListNotificationsQueryDto {
  @ApiPropertyOptional({ description: 'Return the events after this id (the `id` of the last event seen)', example: '1700000000000-0' })
  @IsOptional()
  @Matches(/^\d{1,15}(-\d{1,19})?$/, { message: 'after must be an event id like 1700000000000-0' })
  after?: string;

  @ApiPropertyOptional({ default: NOTIFICATIONS_DEFAULT_LIMIT, minimum: 1, maximum: NOTIFICATIONS_MAX_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: `limit must be between 1 and ${NOTIFICATIONS_MAX_LIMIT}` })
  @Max(NOTIFICATIONS_MAX_LIMIT, { message: `limit must be between 1 and ${NOTIFICATIONS_MAX_LIMIT}` })
  limit?: number;
}

export class NotificationDto {
  @ApiProperty({ description: 'Event id, increasing; send it back as `after` or as the socket `lastEventId`', example: '1700000000000-0' })
  id!: string;

  @ApiProperty({ enum: CLIENT_EVENT_NAMES, example: 'job_completed' })
  event!: ClientEventName;

  @ApiProperty({ description: 'The payload exactly as the socket event carries it', type: 'object', additionalProperties: true })
  payload!: object;
}
