import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { DomainError } from '@app/common';
import { AuthUser } from './auth.types';

/**
 * Admin-only routes: after JwtAuthGuard (`@UseGuards(JwtAuthGuard, AdminGuard)`), which put the caller,
 * role included, on the request from the user cache, so this reads no database either.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!user) throw new DomainError('UNAUTHENTICATED', 'Missing bearer token');
    if (user.role !== 'admin') throw new DomainError('FORBIDDEN', 'Admins only');
    return true;
  }
}
