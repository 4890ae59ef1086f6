import { MongooseModule, Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';

@Schema({ collection: 'batches', versionKey: false })
export class Batch {
  /** The batchId: looked up by _id alone (FerretDB indexes nothing else), the owner checked in code. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: Types.ObjectId, required: true }) userId!: Types.ObjectId;
  @Prop({ required: true }) total!: number;
  /** The jobIds in item order. */
  @Prop({ type: [String], required: true }) jobIds!: string[];
  /** `<userId>:<Idempotency-Key>`, or `none:<batchId>`: present on every document (FerretDB has no sparse unique index). */
  @Prop({ required: true, unique: true }) idempotencyKey!: string;
  /** Identifies the request body an Idempotency-Key was first used for. */
  @Prop({ required: true }) fingerprint!: string;
  @Prop({ required: true }) correlationId!: string;
  @Prop({ required: true }) createdAt!: Date;
}

export const BatchSchema = SchemaFactory.createForClass(Batch);
BatchSchema.index({ userId: 1, createdAt: -1 });

export const batchModels = MongooseModule.forFeature([{ name: Batch.name, schema: BatchSchema }]);
