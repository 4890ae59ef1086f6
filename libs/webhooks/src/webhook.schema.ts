import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { WEBHOOK_DESCRIPTION_MAX_LENGTH, WEBHOOK_EVENT_TYPES, WEBHOOK_URL_MAX_LENGTH, WebhookEventType } from './webhook.types';

/**
 * A user's webhook endpoint. The secret is stored as is (it must sign every delivery; access to this
 * collection is access to the secrets, as with the JWT secret in the environment).
 */
@Schema({ collection: 'webhooks', timestamps: true, versionKey: false })
export class Webhook {
  @Prop({ type: Types.ObjectId, required: true })
  userId!: Types.ObjectId;

  @Prop({ required: true, maxlength: WEBHOOK_URL_MAX_LENGTH })
  url!: string;

  @Prop({ type: [String], enum: WEBHOOK_EVENT_TYPES, required: true })
  events!: WebhookEventType[];

  @Prop({ maxlength: WEBHOOK_DESCRIPTION_MAX_LENGTH })
  description?: string;

  @Prop({ required: true, default: true })
  enabled!: boolean;

  @Prop({ required: true })
  secret!: string;

  @Prop()
  previousSecret?: string;

  @Prop()
  previousSecretExpiresAt?: Date;

  /** The streak when it was disabled; the live streak is in Redis (webhook-state.repository.ts). */
  @Prop({ required: true, default: 0 })
  failureStreak!: number;

  @Prop()
  disabledAt?: Date;

  createdAt!: Date;
  updatedAt!: Date;
}

export const WebhookSchema = SchemaFactory.createForClass(Webhook);
// One user's webhooks, oldest first. Creating the index at start-up also creates the collection before traffic.
WebhookSchema.index({ userId: 1, createdAt: 1 });
