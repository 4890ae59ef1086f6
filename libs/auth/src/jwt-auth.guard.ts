import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { bearerToken, DomainError } from '@app/common';
import { AuthService } from './auth.service';
import { AuthUser } from './auth.types';

interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: AuthUser;
}

/**
 * REST authentication with the very checks the Socket.IO handshake uses (AuthService.verifyToken).
 * Not Passport: its strategy registry is process-global, so a second app in one process (tests, two
 * API instances) would verify tokens against the other app's database connection.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(private readonly auth: AuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new DomainError('UNAUTHENTICATED', 'Missing bearer token');
    const { expiresAt: _expiresAt, issuedAt: _issuedAt, ...user } = await this.auth.verifyToken(token);
    request.user = user;
    return true;
  }
}

/** The authenticated caller, as JwtAuthGuard resolved it. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthUser => context.switchToHttp().getRequest<AuthenticatedRequest>().user!,
);
