import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { AuthService, AuthUser } from '@app/auth';
import { bearerToken, DomainError } from '@app/common';

interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: AuthUser;
}

/**
 * JwtAuthGuard's checks, except that the caller's account may be one whose deletion began and was cut short
 * (inactive, marked deleting): only DELETE /auth/me accepts it, so the deletion can be repeated until it is done.
 */
@Injectable()
export class AccountDeletionGuard implements CanActivate {
  constructor(private readonly auth: AuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new DomainError('UNAUTHENTICATED', 'Missing bearer token');
    const { expiresAt: _expiresAt, issuedAt: _issuedAt, ...user } = await this.auth.verifyToken(token, { allowDeleting: true });
    request.user = user;
    return true;
  }
}
