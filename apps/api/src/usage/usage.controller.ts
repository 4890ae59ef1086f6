import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import { UsageQueryDto, UsageReportDto, UsageService } from '@app/jobs';

@ApiTags('usage')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @ApiOperation({ summary: "What the caller's finished jobs used, per UTC day and per model: jobs, prompt/completion tokens, cost" })
  @ApiResponse({ status: 200, type: UsageReportDto })
  @ApiResponse({ status: 400, description: 'from or to is not a YYYY-MM-DD day, from is after to, or the range is over 366 days' })
  report(@CurrentUser() user: AuthUser, @Query() query: UsageQueryDto): Promise<UsageReportDto> {
    return this.usage.report(user.id, query);
  }
}
