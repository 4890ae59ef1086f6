import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { CONTENT_TYPES, ContentType, TokenUsage, TokenUsageSchema } from '@app/common';
import { BODY_MAX_LENGTH, TITLE_MAX_LENGTH } from './content.types';

@Schema({ collection: 'contents', timestamps: true, versionKey: false })
export class Content {
  @Prop({ type: Types.ObjectId, required: true })
  userId!: Types.ObjectId;

  @Prop({ required: true, trim: true, maxlength: TITLE_MAX_LENGTH })
  title!: string;

  @Prop({ type: String, required: true, enum: CONTENT_TYPES })
  type!: ContentType;

  @Prop({ required: true, maxlength: BODY_MAX_LENGTH })
  body!: string;

  /**
   * `job:<jobId>` or `manual:<ObjectId>`: present on every document because FerretDB has no sparse or
   * partial indexes, so this unique index makes saving a job idempotent without colliding on manual items.
   * Not `select: false`: FerretDB refuses projections on findAndModify; the repository never returns it.
   */
  @Prop({ required: true, unique: true })
  sourceKey!: string;

  @Prop() sourceJobId?: string;
  @Prop() provider?: string;
  @Prop() model?: string;
  @Prop({ type: TokenUsageSchema }) usage?: TokenUsage;

  createdAt!: Date;
  updatedAt!: Date;
}

export const ContentSchema = SchemaFactory.createForClass(Content);
// The library list: one user's items, newest first, with _id breaking ties for a stable cursor.
ContentSchema.index({ userId: 1, createdAt: -1, _id: -1 });
