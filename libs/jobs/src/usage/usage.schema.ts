import { MongooseModule, Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';

/**
 * What one finished run of a job used, written once when it finished: GET /usage sums these, never the
 * jobs. Kept when the job record goes (JOB_RETENTION_MS): they are small and make the history.
 */
@Schema({ collection: 'usage', versionKey: false })
export class UsageRecord {
  /** The jobId (`<jobId>:r<n>` for an admin's n-th retry): a repeated finish inserts nothing. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) jobId!: string;
  @Prop({ type: Types.ObjectId, required: true }) userId!: Types.ObjectId;
  /** UTC day the job finished, `YYYY-MM-DD`. */
  @Prop({ required: true }) day!: string;
  @Prop({ required: true }) model!: string;
  @Prop({ required: true }) provider!: string;
  @Prop({ required: true }) status!: string;
  @Prop({ required: true, min: 0 }) promptTokens!: number;
  @Prop({ required: true, min: 0 }) completionTokens!: number;
  @Prop({ required: true, min: 0 }) totalTokens!: number;
  /** As the provider reported it (OpenRouter credits); 0 when it did not (the offline provider). */
  @Prop({ required: true, min: 0 }) cost!: number;
  @Prop({ required: true }) finishedAt!: Date;
}

export const UsageRecordSchema = SchemaFactory.createForClass(UsageRecord);
UsageRecordSchema.index({ userId: 1, day: 1 });

export const usageModels = MongooseModule.forFeature([{ name: UsageRecord.name, schema: UsageRecordSchema }]);
