import { MongooseModule, Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema, Types } from 'mongoose';
import { CONTENT_TYPES, ContentType, GenerationOptions, TokenUsage, TokenUsageSchema } from '@app/common';
import type { OutlineSection, ProductCopy } from '@app/llm';
import { JOB_STATUSES, JobStatus, JobValidation } from './job.types';

@Schema({ collection: 'jobs', timestamps: true, versionKey: false })
export class Job {
  /** The jobId: lookups by it then use the primary key, which every MongoDB-compatible backend indexes. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true, unique: true }) jobId!: string;
  @Prop({ type: Types.ObjectId, required: true }) userId!: Types.ObjectId;
  @Prop({ required: true }) prompt!: string;
  @Prop({ type: String, required: true, enum: CONTENT_TYPES }) contentType!: ContentType;
  @Prop({ type: String, required: true, enum: JOB_STATUSES, default: 'queued' }) status!: JobStatus;
  @Prop({ required: true }) scheduledFor!: Date;
  /**
   * `<userId>:<Idempotency-Key>`, or `none:<jobId>` without a key: present on every document because
   * FerretDB has no sparse or partial unique indexes.
   */
  @Prop({ required: true, unique: true }) idempotencyKey!: string;
  @Prop({ required: true }) correlationId!: string;
  @Prop({ required: true, default: 0 }) attempts!: number;
  @Prop() generatedContent?: string;
  @Prop() completedAt?: Date;
  @Prop() error?: string;
  @Prop() provider?: string;
  @Prop() model?: string;
  @Prop({ type: TokenUsageSchema }) usage?: TokenUsage;
  @Prop() durationMs?: number;
  @Prop() finishReason?: string;
  @Prop() generationId?: string;
  /** How often an admin queued the job again after it failed (POST /admin/jobs/:jobId/retry). */
  @Prop() retries?: number;
  /** The OpenTelemetry trace of the request that created the job, when tracing was on. */
  @Prop() traceId?: string;
  /** What the user asked for besides the prompt (validated by GenerateContentDto). */
  @Prop({ type: MongooseSchema.Types.Mixed }) options?: GenerationOptions;
  /** The template `prompt` was rendered from. */
  @Prop() templateId?: string;
  @Prop({ type: [String], default: undefined }) variants?: string[];
  @Prop({ type: MongooseSchema.Types.Mixed }) validation?: JobValidation;
  @Prop({ type: MongooseSchema.Types.Mixed }) outline?: OutlineSection[];
  @Prop({ type: MongooseSchema.Types.Mixed }) product?: ProductCopy;
  @Prop() cancelledAt?: Date;
  /** The batch it belongs to and its 0-based place in it; its batch slot is under its own cap. */
  @Prop() batchId?: string;
  @Prop() batchIndex?: number;
  createdAt!: Date;
  updatedAt!: Date;
}

export const JobSchema = SchemaFactory.createForClass(Job);
JobSchema.index({ userId: 1, createdAt: -1, _id: -1 });
JobSchema.index({ userId: 1, status: 1 });
// The reconciler's scan for unfinished records (a scan on FerretDB, which indexes only _id).
JobSchema.index({ status: 1, updatedAt: 1 });

/** The jobs collection's model, imported by the API side and the worker side alike. */
export const jobModels = MongooseModule.forFeature([{ name: Job.name, schema: JobSchema }]);
