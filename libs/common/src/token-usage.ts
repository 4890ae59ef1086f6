import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * Tokens (and cost) a provider reported for one generation. The one definition of the shape: the LLM
 * providers return it, job records and library items store it (as a subdocument), and the API documents it.
 */
@Schema({ _id: false, versionKey: false })
export class TokenUsage {
  @ApiProperty() @Prop({ required: true, min: 0 }) promptTokens!: number;
  @ApiProperty() @Prop({ required: true, min: 0 }) completionTokens!: number;
  @ApiProperty() @Prop({ required: true, min: 0 }) totalTokens!: number;
  @ApiPropertyOptional({ description: 'Credits charged, when the provider reports it' }) @Prop({ min: 0 }) cost?: number;
}

export const TokenUsageSchema = SchemaFactory.createForClass(TokenUsage);
