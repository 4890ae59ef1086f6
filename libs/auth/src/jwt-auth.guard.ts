import { ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { createParamDecorator } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { DomainError } from '@app/common';
import { AuthUser } from './auth.types';

@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  override handleRequest<T>(error: unknown, user: T): T {
    // A dependency failure (database down) must surface as itself, not as a 401.
    if (error && !(error instanceof DomainError)) throw error;
    if (!user) throw new UnauthorizedException('Invalid or missing token');
    return user;
  }
}

/** The authenticated caller, as JwtStrategy resolved it. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthUser => context.switchToHttp().getRequest<{ user: AuthUser }>().user,
);
