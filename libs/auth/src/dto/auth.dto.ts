import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { isEmail, IsOptional, IsString, MaxLength, MinLength, ValidateBy } from 'class-validator';
import { PageCursor, PageLimit } from '@app/common';
import { USERS_DEFAULT_PAGE_SIZE, USERS_MAX_PAGE_SIZE } from '../auth.types';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from '../password';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const normalizeEmail = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

const MaxBytes = (max: number) =>
  ValidateBy({
    name: 'maxBytes',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && Buffer.byteLength(value) <= max,
      defaultMessage: (args) => `${args?.property} must be at most ${max} bytes`,
    },
  });

/** A lone surrogate is no email, and validator's isEmail would throw on it (encodeURI), so it is refused first. */
const LONE_SURROGATE = /\p{Surrogate}/u;
const IsEmailAddress = () =>
  ValidateBy({
    name: 'isEmailAddress',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && !LONE_SURROGATE.test(value) && isEmail(value),
      defaultMessage: () => 'email must be a valid email address',
    },
  });

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(normalizeEmail)
  @MaxLength(254)
  @IsEmailAddress()
  email!: string;

  @ApiProperty({ example: 'correct horse battery', minLength: PASSWORD_MIN_LENGTH })
  @MaxBytes(PASSWORD_MAX_BYTES)
  @IsString()
  password!: string;
}

export class RegisterDto extends LoginDto {
  @ApiProperty({ example: 'Ada Lovelace', maxLength: 100 })
  @Transform(trim)
  @MaxLength(100)
  @MinLength(1, { message: 'name must not be empty' })
  @IsString()
  name!: string;

  @ApiProperty({ example: 'correct horse battery', minLength: PASSWORD_MIN_LENGTH, description: 'at most 72 bytes' })
  @MaxBytes(PASSWORD_MAX_BYTES)
  @MinLength(PASSWORD_MIN_LENGTH)
  @IsString()
  declare password: string;
}

export class TokensResponseDto {
  @ApiProperty({ description: 'Access token (JWT) to send as Authorization: Bearer <token>' }) token!: string;
  @ApiProperty({ description: 'Opaque; send it to POST /auth/refresh for a new pair. Single use: a used one presented again ends the session' })
  refreshToken!: string;
  @ApiProperty({ description: 'Seconds the access token lives (JWT_EXPIRES_IN)' }) expiresIn!: number;
}

export class AuthResponseDto extends TokensResponseDto {
  @ApiProperty() _id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() email!: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refreshToken of register, login or the last refresh' })
  // Room for an access token, so one sent here by mistake is a 401 (wrong kind), not a 400.
  @MaxLength(2000)
  @IsString()
  refreshToken!: string;
}

export class UpdateMeDto {
  @ApiProperty({ example: 'Ada Lovelace', maxLength: 100 })
  @Transform(trim)
  @MaxLength(100)
  @MinLength(1, { message: 'name must not be empty' })
  @IsString()
  name!: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @MaxBytes(PASSWORD_MAX_BYTES)
  @IsString()
  currentPassword!: string;

  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, description: 'at most 72 bytes; not a common password, not containing the email' })
  @MaxBytes(PASSWORD_MAX_BYTES)
  @MinLength(PASSWORD_MIN_LENGTH)
  @IsString()
  newPassword!: string;
}

export class DeleteAccountDto {
  @ApiProperty({ description: "The account's current password" })
  @MaxBytes(PASSWORD_MAX_BYTES)
  @IsString()
  password!: string;
}

export class SessionDto {
  @ApiProperty() id!: string;
  @ApiPropertyOptional({ description: 'The User-Agent of the sign-in (capped)' }) userAgent?: string;
  @ApiPropertyOptional() ip?: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ description: 'Last refresh or use (written at most once a minute)' }) lastUsedAt!: Date;
  @ApiProperty({ description: 'When the refresh token stops working unless used' }) expiresAt!: Date;
  @ApiProperty({ description: "true for the caller's own session" }) current!: boolean;
}

export class MeResponseDto {
  @ApiProperty() _id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: ['active', 'inactive'] }) status!: string;
  @ApiProperty({ enum: ['user', 'admin'], description: 'admin when the email is listed in ADMIN_EMAILS (as of the last login)' }) role!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

/** A user as admins see it: never the password hash. */
export class AdminUserDto extends MeResponseDto {}

export class ListUsersQueryDto {
  @ApiPropertyOptional({ description: 'Literal text matched case-insensitively in name and email', maxLength: 200 })
  @IsOptional()
  @MaxLength(200)
  @IsString()
  search?: string;

  @PageLimit(USERS_MAX_PAGE_SIZE, USERS_DEFAULT_PAGE_SIZE)
  limit?: number;

  @PageCursor()
  cursor?: string;
}

export class UserStatusChangedDto {
  @ApiProperty() _id!: string;
  @ApiProperty({ enum: ['active', 'inactive'] }) status!: string;
}
