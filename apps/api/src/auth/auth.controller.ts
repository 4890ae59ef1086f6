import { Body, Controller, Delete, Get, Headers, HttpCode, Ip, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  AuthResponseDto,
  AuthService,
  AuthUser,
  ChangePasswordDto,
  CurrentUser,
  JwtAuthGuard,
  LoginDto,
  MeResponseDto,
  RefreshDto,
  RegisterDto,
  SessionDto,
  TokensResponseDto,
  UpdateMeDto,
} from '@app/auth';
import { AuthThrottlerGuard } from './auth-throttler.guard';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @UseGuards(AuthThrottlerGuard)
  @ApiOperation({ summary: 'Create an account and get a token' })
  @ApiResponse({ status: 201, type: AuthResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid input, or a common password or one containing the email' })
  @ApiResponse({ status: 409, description: 'A user with this email already exists' })
  register(@Body() body: RegisterDto, @Headers('user-agent') userAgent?: string, @Ip() ip?: string): Promise<AuthResponseDto> {
    return this.auth.register(body, { userAgent, ip });
  }

  @Post('login')
  @HttpCode(200)
  @UseGuards(AuthThrottlerGuard)
  @ApiOperation({ summary: 'Exchange email and password for a token' })
  @ApiResponse({ status: 200, type: AuthResponseDto })
  @ApiResponse({ status: 401, description: 'Invalid credentials' })
  login(@Body() body: LoginDto, @Headers('user-agent') userAgent?: string, @Ip() ip?: string): Promise<AuthResponseDto> {
    return this.auth.login(body, { userAgent, ip });
  }

  @Post('refresh')
  @HttpCode(200)
  @UseGuards(AuthThrottlerGuard)
  @ApiOperation({ summary: 'Exchange a refresh token for a new pair (the old refresh token is dead; presenting it again ends the session)' })
  @ApiResponse({ status: 200, type: TokensResponseDto })
  @ApiResponse({ status: 401, description: 'Invalid, expired or already used refresh token' })
  @ApiResponse({ status: 429, description: 'Too many attempts from this IP' })
  refresh(@Body() body: RefreshDto): Promise<TokensResponseDto> {
    return this.auth.refresh(body.refreshToken);
  }

  @Post('logout')
  @HttpCode(204)
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: "End the caller's session: its tokens get 401 and its sockets are disconnected, on every instance" })
  logout(@CurrentUser() user: AuthUser): Promise<void> {
    return this.auth.logout(user);
  }

  @Post('logout-all')
  @HttpCode(204)
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: "End every session of the caller" })
  logoutAll(@CurrentUser() user: AuthUser): Promise<void> {
    return this.auth.logoutAll(user);
  }

  @Get('sessions')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: "The caller's live sessions, most recently used first" })
  @ApiResponse({ status: 200, type: [SessionDto] })
  sessions(@CurrentUser() user: AuthUser): Promise<SessionDto[]> {
    return this.auth.listSessions(user);
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'End one of the caller\'s sessions' })
  @ApiResponse({ status: 404, description: 'No such session of the caller' })
  endSession(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    return this.auth.endSession(user, id);
  }

  @Get('me')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiResponse({ status: 200, type: MeResponseDto })
  me(@CurrentUser() user: AuthUser): Promise<MeResponseDto> {
    return this.auth.me(user.id);
  }

  @Patch('me')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Change the caller\'s name' })
  @ApiResponse({ status: 200, type: MeResponseDto })
  updateMe(@CurrentUser() user: AuthUser, @Body() body: UpdateMeDto): Promise<MeResponseDto> {
    return this.auth.changeName(user.id, body.name);
  }

  @Post('password')
  @HttpCode(204)
  // Authenticated first, so the throttler counts attempts per account (the caller's email, shared with login) and per IP, before bcrypt.
  @UseGuards(JwtAuthGuard, AuthThrottlerGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: "Change the caller's password; ends the caller's other sessions" })
  @ApiResponse({ status: 204, description: 'Changed' })
  @ApiResponse({ status: 400, description: 'newPassword too short or long, common, or containing the email' })
  @ApiResponse({ status: 403, description: 'currentPassword is incorrect' })
  @ApiResponse({ status: 429, description: 'Too many attempts' })
  changePassword(@CurrentUser() user: AuthUser, @Body() body: ChangePasswordDto): Promise<void> {
    return this.auth.changePassword(user, body);
  }
}
