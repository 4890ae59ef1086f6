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

/** The sum of several calls' usage (a job's variants, its repair request); cost only when every call reported one. */
export function sumUsage(usages: ReadonlyArray<TokenUsage | undefined>): TokenUsage | undefined {
  const reported = usages.filter((usage): usage is TokenUsage => usage !== undefined);
  if (reported.length === 0) return undefined;
  const total: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  for (const usage of reported) {
    total.promptTokens += usage.promptTokens;
    total.completionTokens += usage.completionTokens;
    total.totalTokens += usage.totalTokens;
  }
  if (reported.every((usage) => usage.cost !== undefined)) total.cost = reported.reduce((sum, usage) => sum + (usage.cost ?? 0), 0);
  return total;
}
