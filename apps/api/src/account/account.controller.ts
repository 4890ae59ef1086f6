import { Body, Controller, Delete, Get, HttpCode, StreamableFile, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, DeleteAccountDto, JwtAuthGuard } from '@app/auth';
import { AuthThrottlerGuard } from '../auth/auth-throttler.guard';
import { AccountDeletion } from './account-deletion.service';
import { AccountDeletionGuard } from './account-deletion.guard';
import { AccountExportService } from './account-export.service';

@ApiTags('auth')
@Controller('auth')
export class AccountController {
  constructor(
    private readonly deletion: AccountDeletion,
    private readonly exports: AccountExportService,
  ) {}

  @Delete('me')
  @HttpCode(204)
  // Authenticated first, so the throttler counts attempts per account (the caller's email, shared with login) and per IP, before bcrypt.
  @UseGuards(AccountDeletionGuard, AuthThrottlerGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: "Delete the caller's account and all its data (jobs, library, templates, webhooks, notifications, sessions)" })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiResponse({ status: 400, description: 'password missing' })
  @ApiResponse({ status: 403, description: 'password is incorrect' })
  @ApiResponse({ status: 429, description: 'Too many attempts' })
  @ApiResponse({ status: 503, description: 'Interrupted (a dependency is down or a job is still stopping): the account stays inactive; repeat the request' })
  async deleteAccount(@CurrentUser() user: AuthUser, @Body() body: DeleteAccountDto): Promise<void> {
    await this.deletion.delete(user, body.password);
  }

  @Get('me/export')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: "All of the caller's data as one JSON download (profile, sessions, templates, webhooks without secrets, batches, jobs, library)" })
  @ApiProduces('application/json')
  @ApiResponse({ status: 200, description: 'The file, streamed as an attachment', schema: { type: 'string', format: 'binary' } })
  async exportAccount(@CurrentUser() user: AuthUser): Promise<StreamableFile> {
    const file = await this.exports.export(user);
    return new StreamableFile(file.stream, { type: 'application/json; charset=utf-8', disposition: `attachment; filename="${file.filename}"` });
  }
}
