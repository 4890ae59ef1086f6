import { Controller, Delete, HttpCode, Inject, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ADMIN_SESSION_TTL_SECONDS, AdminGuard, AdminSessionService, AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import { AppConfig, appConfig } from '@app/config';
import { adminSessionCookie, clearedAdminSessionCookie } from './admin-session-cookie';

interface HeaderReply {
  header(name: string, value: string): unknown;
}

/** The browser session of the admin pages (the queue board at /admin/queues): a short-lived cookie, not the bearer token. */
@ApiTags('admin')
@Controller('admin/session')
export class AdminSessionController {
  constructor(
    private readonly sessions: AdminSessionService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(204)
  @ApiBearerAuth()
  @UseGuards(JwtAuthGuard, AdminGuard)
  @ApiOperation({ summary: `Set the admin pages' session cookie (${ADMIN_SESSION_TTL_SECONDS / 60} min, HttpOnly, SameSite=Strict, Path=/admin)` })
  @ApiResponse({ status: 204, description: 'Cookie set' })
  @ApiResponse({ status: 401, description: 'No valid token' })
  @ApiResponse({ status: 403, description: 'The caller is not an admin' })
  async open(@CurrentUser() user: AuthUser, @Res({ passthrough: true }) reply: HeaderReply): Promise<void> {
    const value = await this.sessions.issue(user);
    reply.header('Set-Cookie', adminSessionCookie(value, this.config));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: "Clear the admin pages' session cookie" })
  @ApiResponse({ status: 204, description: 'Cookie cleared' })
  close(@Res({ passthrough: true }) reply: HeaderReply): void {
    reply.header('Set-Cookie', clearedAdminSessionCookie(this.config));
  }
}
