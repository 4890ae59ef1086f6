import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { CONTENT_TYPES, ContentType } from '@app/common';
import { TEMPLATE_NAME_MAX_LENGTH, TEMPLATE_PROMPT_MAX_LENGTH, VARIABLE_DESCRIPTION_MAX_LENGTH, VARIABLE_VALUE_MAX_LENGTH } from './template.types';

@Schema({ _id: false, versionKey: false })
export class TemplateVariableRecord {
  @Prop({ required: true }) name!: string;
  @Prop({ maxlength: VARIABLE_DESCRIPTION_MAX_LENGTH }) description?: string;
  @Prop({ required: true }) required!: boolean;
  @Prop({ maxlength: VARIABLE_VALUE_MAX_LENGTH }) default?: string;
}

const TemplateVariableSchema = SchemaFactory.createForClass(TemplateVariableRecord);

/** A user's own template; built-in ones live in code (built-in-templates.ts), never here. */
@Schema({ collection: 'templates', timestamps: true, versionKey: false })
export class Template {
  @Prop({ type: Types.ObjectId, required: true })
  userId!: Types.ObjectId;

  @Prop({ required: true, trim: true, maxlength: TEMPLATE_NAME_MAX_LENGTH })
  name!: string;

  @Prop({ type: String, required: true, enum: CONTENT_TYPES })
  contentType!: ContentType;

  @Prop({ required: true, maxlength: TEMPLATE_PROMPT_MAX_LENGTH })
  prompt!: string;

  @Prop({ type: [TemplateVariableSchema], default: [] })
  variables!: TemplateVariableRecord[];

  createdAt!: Date;
  updatedAt!: Date;
}

export const TemplateSchema = SchemaFactory.createForClass(Template);
// One user's templates, oldest first. Creating the index at start-up also creates the collection before traffic.
TemplateSchema.index({ userId: 1, createdAt: 1 });
