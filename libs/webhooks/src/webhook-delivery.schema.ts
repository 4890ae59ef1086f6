import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One attempt of one delivery. `_id` is `<webhookId>:<n mod DELIVERY_LOG_SIZE>`: the log is a ring of
 * DELIVERY_LOG_SIZE entries per webhook that each write overwrites by `_id` (FerretDB has no TTL index, and
 * an `_id`-only upsert is the one write it answers from an index), so it never needs pruning.
 */
@Schema({ collection: 'webhook_deliveries', versionKey: false })
export class WebhookDelivery {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true })
  webhookId!: string;

  /** The ring position's write number (increasing per webhook), so the list sorts newest first. */
  @Prop({ required: true })
  seq!: number;

  @Prop({ required: true }) at!: Date;
  @Prop({ required: true }) eventId!: string;
  @Prop({ required: true }) msgId!: string;
  @Prop({ required: true }) type!: string;
  @Prop({ required: true }) attempt!: number;
  @Prop() statusCode?: number;
  @Prop({ required: true }) latencyMs!: number;
  @Prop({ required: true }) outcome!: string;
  @Prop() error?: string;
  @Prop() responseBytes?: number;
  @Prop() truncated?: boolean;
}

export const WebhookDeliverySchema = SchemaFactory.createForClass(WebhookDelivery);
WebhookDeliverySchema.index({ webhookId: 1, seq: -1 });
