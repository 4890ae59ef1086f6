import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';

export class UsageQueryDto {
  @ApiPropertyOptional({ example: '2026-11-01', description: 'First UTC day (YYYY-MM-DD); default 29 days before `to`' })
  @IsOptional()
  @IsString()
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-30', description: 'Last UTC day (YYYY-MM-DD), inclusive; default today. At most 366 days in all' })
  @IsOptional()
  @IsString()
  to?: string;
}

export class UsageSumsDto {
  @ApiProperty({ description: 'Finished jobs (completed, failed, cancelled)' }) jobs!: number;
  @ApiProperty() promptTokens!: number;
  @ApiProperty() completionTokens!: number;
  @ApiProperty() totalTokens!: number;
  @ApiProperty({ description: 'As the provider reported it (OpenRouter credits); 0 when it did not' }) cost!: number;
}

export class ModelUsageDto extends UsageSumsDto {
  @ApiProperty({ example: 'openai/gpt-4o-mini' }) model!: string;
}

export class DayUsageDto extends UsageSumsDto {
  @ApiProperty({ example: '2026-11-24' }) day!: string;
  @ApiProperty({ type: [ModelUsageDto] }) models!: ModelUsageDto[];
}

export class UsageReportDto {
  @ApiProperty({ example: '2026-10-26' }) from!: string;
  @ApiProperty({ example: '2026-11-24' }) to!: string;
  @ApiProperty({ type: [DayUsageDto], description: 'Days with finished jobs, oldest first' }) days!: DayUsageDto[];
  @ApiProperty({ type: UsageSumsDto }) total!: UsageSumsDto;
}
