import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

@Schema({ collection: 'job_quotas', versionKey: false })
export class JobQuota {
  /** The user id. */
  @Prop({ type: String, required: true }) _id!: string;
  /** Unfinished (queued or processing) jobs of the user. */
  @Prop({ required: true, default: 0 }) active!: number;
}
export const JobQuotaSchema = SchemaFactory.createForClass(JobQuota);
