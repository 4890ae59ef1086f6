import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import { ListNotificationsQueryDto, NotificationDto, NotificationsService } from '@app/pubsub';

@ApiTags('notifications')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @ApiOperation({ summary: 'The recorded socket events (job_completed, job_status) after an id, oldest first, for clients without a socket' })
  @ApiResponse({ status: 200, type: NotificationDto, isArray: true })
  @ApiResponse({ status: 400, description: 'after is not an event id, or limit is out of range' })
  list(@CurrentUser() user: AuthUser, @Query() query: ListNotificationsQueryDto): Promise<NotificationDto[]> {
    return this.notifications.list(user.id, query);
  }
}
