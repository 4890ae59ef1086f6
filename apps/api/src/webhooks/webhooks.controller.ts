import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import {
  CreateWebhookDto,
  DeletedWebhookDto,
  UpdateWebhookDto,
  WebhookDeliveryDto,
  WebhookDto,
  WebhooksService,
  WebhookTestDto,
  WebhookWithSecretDto,
} from '@app/webhooks';

@ApiTags('webhooks')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ summary: 'Register an endpoint; its signing secret is shown only here and on rotation' })
  @ApiResponse({ status: 201, type: WebhookWithSecretDto })
  @ApiResponse({ status: 400, description: 'A bad field; a url that is not http(s), whose host resolves to an address that is not allowed, or that does not resolve (names url)' })
  @ApiResponse({ status: 409, description: 'WEBHOOK_LIMIT_REACHED: already 10 webhooks (details: limit)' })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateWebhookDto): Promise<WebhookWithSecretDto> {
    return this.webhooks.create(user.id, body);
  }

  @Get()
  @ApiResponse({ status: 200, type: [WebhookDto] })
  list(@CurrentUser() user: AuthUser): Promise<WebhookDto[]> {
    return this.webhooks.list(user.id);
  }

  @Get(':id')
  @ApiResponse({ status: 200, type: WebhookDto })
  @ApiResponse({ status: 404, description: 'Not one of the caller webhooks' })
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<WebhookDto> {
    return this.webhooks.get(user.id, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change any of url, events, description and enabled; disabling stops deliveries (events are no longer queued, and pending ones are skipped and logged); re-enabling starts a new failure streak' })
  @ApiResponse({ status: 200, type: WebhookDto })
  @ApiResponse({ status: 404, description: 'Not one of the caller webhooks' })
  update(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: UpdateWebhookDto): Promise<WebhookDto> {
    return this.webhooks.update(user.id, id, body);
  }

  @Delete(':id')
  @ApiResponse({ status: 200, type: DeletedWebhookDto })
  @ApiResponse({ status: 404, description: 'Not one of the caller webhooks' })
  remove(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<DeletedWebhookDto> {
    return this.webhooks.remove(user.id, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'A new secret; the previous one also signs (a second signature) for 24 h' })
  @ApiResponse({ status: 200, type: WebhookWithSecretDto })
  rotateSecret(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<WebhookWithSecretDto> {
    return this.webhooks.rotateSecret(user.id, id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queues a webhook.test ping to this endpoint only, tried once; at most one per 10 s per webhook' })
  @ApiResponse({ status: 202, type: WebhookTestDto })
  @ApiResponse({ status: 429, description: 'RATE_LIMITED: a ping was queued less than 10 s ago (Retry-After says when the next may)' })
  test(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<WebhookTestDto> {
    return this.webhooks.test(user.id, id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'The last 100 delivery attempts, newest first' })
  @ApiResponse({ status: 200, type: [WebhookDeliveryDto] })
  deliveries(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<WebhookDeliveryDto[]> {
    return this.webhooks.deliveryLog(user.id, id);
  }
}
