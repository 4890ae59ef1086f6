import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { WEBHOOK_DESCRIPTION_MAX_LENGTH, WEBHOOK_EVENT_TYPES, WEBHOOK_TEST_EVENT, WEBHOOK_URL_MAX_LENGTH, WebhookEventType } from '../webhook.types';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
/** Optional, but an explicit null is validated (and refused) rather than skipped. */
const IsPresent = () => ValidateIf((_object: object, value: unknown) => value !== undefined);
const EVENTS_MESSAGE = `each value in events must be one of: ${WEBHOOK_EVENT_TYPES.join(', ')}`;
const URL_DESCRIPTION =
  'http(s) (https only in production), no credentials; a host resolving to loopback, private, link-local, CGNAT, unique-local, multicast or metadata addresses is refused (checked again at every delivery)';

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://example.com/hooks/aicg', maxLength: WEBHOOK_URL_MAX_LENGTH, description: URL_DESCRIPTION })
  @Transform(trim)
  @MaxLength(WEBHOOK_URL_MAX_LENGTH)
  @MinLength(1, { message: 'url must not be empty' })
  @IsString()
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, example: ['job.completed', 'job.failed'] })
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: EVENTS_MESSAGE })
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length * 2)
  @ArrayMinSize(1, { message: 'events must name at least one event' })
  @IsArray()
  events!: WebhookEventType[];

  @ApiPropertyOptional({ maxLength: WEBHOOK_DESCRIPTION_MAX_LENGTH })
  @IsPresent()
  @MaxLength(WEBHOOK_DESCRIPTION_MAX_LENGTH)
  @IsString()
  description?: string;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ maxLength: WEBHOOK_URL_MAX_LENGTH, description: URL_DESCRIPTION })
  @IsPresent()
  @Transform(trim)
  @MaxLength(WEBHOOK_URL_MAX_LENGTH)
  @MinLength(1, { message: 'url must not be empty' })
  @IsString()
  url?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  @IsPresent()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: EVENTS_MESSAGE })
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length * 2)
  @ArrayMinSize(1, { message: 'events must name at least one event' })
  @IsArray()
  events?: WebhookEventType[];

  @ApiPropertyOptional({ maxLength: WEBHOOK_DESCRIPTION_MAX_LENGTH })
  @IsPresent()
  @MaxLength(WEBHOOK_DESCRIPTION_MAX_LENGTH)
  @IsString()
  description?: string;

  @ApiPropertyOptional({ description: 'false stops deliveries (no event is queued for it; a pending one is skipped, logged as skipped); true re-enables (a new failure streak starts)' })
  @IsPresent()
  @IsBoolean()
  enabled?: boolean;
}

export class WebhookDto {
  @ApiProperty() _id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true }) events!: WebhookEventType[];
  @ApiPropertyOptional() description?: string;
  @ApiProperty({ description: 'false: nothing is delivered to it (test pings excepted)' }) enabled!: boolean;
  @ApiProperty({ description: 'Failed deliveries in a row (each after all its attempts)' }) failureStreak!: number;
  @ApiPropertyOptional({ description: 'When it was disabled (by its owner, or after WEBHOOK_DISABLE_AFTER failed deliveries in a row)' }) disabledAt?: Date;
  @ApiPropertyOptional({ description: 'Until when the previous secret still signs (after a rotation)' }) previousSecretExpiresAt?: Date;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export class WebhookWithSecretDto extends WebhookDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'Shown only on creation and rotation' })
  secret!: string;
}

export class DeletedWebhookDto {
  @ApiProperty() id!: string;
}

export class WebhookTestDto {
  @ApiProperty() eventId!: string;
  @ApiProperty({ description: `The webhook-id header of the ${WEBHOOK_TEST_EVENT} delivery` }) msgId!: string;
}

export class WebhookDeliveryDto {
  @ApiProperty() at!: Date;
  @ApiProperty() eventId!: string;
  @ApiProperty({ description: 'The webhook-id header, the same on every attempt of one delivery' }) msgId!: string;
  @ApiProperty({ example: 'job.completed' }) type!: string;
  @ApiProperty({ description: '1 for the first try' }) attempt!: number;
  @ApiPropertyOptional() statusCode?: number;
  @ApiProperty() latencyMs!: number;
  @ApiProperty({ enum: ['delivered', 'retrying', 'failed', 'skipped'], description: 'skipped: not sent, the endpoint was disabled (error says so)' }) outcome!: string;
  @ApiPropertyOptional() error?: string;
  @ApiPropertyOptional({ description: `Bytes of the answer read (at most 64 kB)` }) responseBytes?: number;
  @ApiPropertyOptional({ description: 'The answer was longer than 64 kB and cut' }) truncated?: boolean;
}

