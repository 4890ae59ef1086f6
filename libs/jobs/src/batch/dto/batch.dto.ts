import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { JobDto } from '../../dto/generate-content.dto';

export class BatchJobRefDto {
  @ApiProperty({ description: "0-based index of the item (JSON) or data row (CSV, the header not counted)" }) index!: number;
  @ApiProperty({ format: 'uuid' }) jobId!: string;
}

export class CreatedBatchDto {
  @ApiProperty({ format: 'uuid' }) batchId!: string;
  @ApiProperty({ type: [BatchJobRefDto] }) jobs!: BatchJobRefDto[];
}

export class BatchCountsDto {
  @ApiProperty() queued!: number;
  @ApiProperty() processing!: number;
  @ApiProperty() completed!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() cancelled!: number;
}

class BatchHeadDto {
  @ApiProperty({ format: 'uuid' }) batchId!: string;
  @ApiProperty() total!: number;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ type: BatchCountsDto }) counts!: BatchCountsDto;
}

export class BatchSummaryDto extends BatchHeadDto {
  @ApiProperty({ type: [BatchJobRefDto], description: 'Its jobs by item index (GET /batches/:batchId has them whole)' }) jobs!: BatchJobRefDto[];
}

export class BatchDto extends BatchHeadDto {
  @ApiProperty({ type: [JobDto], description: 'In item order; each carries batchId and batchIndex' }) jobs!: JobDto[];
}

export class CancelledBatchDto {
  @ApiProperty({ format: 'uuid' }) batchId!: string;
  @ApiProperty({ description: 'Jobs this request cancelled (the others had ended already)' }) cancelled!: number;
  @ApiProperty({ type: BatchCountsDto }) counts!: BatchCountsDto;
}

export class BatchExportQueryDto {
  @ApiProperty({ enum: ['csv', 'json'] })
  @IsIn(['csv', 'json'], { message: 'format must be csv or json' })
  format!: 'csv' | 'json';
}

/** Body of a JSON batch, for the API docs (the service validates each item and names it `items[i].<field>`). */
export class BatchItemsDocDto {
  @ApiProperty({
    description: 'Up to MAX_BATCH_ITEMS (default 100) items, each as the body of POST /generate-content',
    example: [{ prompt: 'A launch post for our solar backpack', contentType: 'blog-post' }, { templateId: 'seo-blog-outline', variables: { topic: 'Remote work', keyword: 'remote work tips' } }],
  })
  items!: unknown[];
}
