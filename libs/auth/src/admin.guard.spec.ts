import { ExecutionContext } from '@nestjs/common';
import { AdminGuard } from './admin.guard';
import { AuthUser } from './auth.types';

const caller = (role: AuthUser['role']): AuthUser => ({ id: '64b7f0c2a1b2c3d4e5f60718', email: 'ada@example.com', name: 'Ada', role });
const contextWith = (user?: AuthUser) => ({ switchToHttp: () => ({ getRequest: () => ({ user }) }) }) as unknown as ExecutionContext;

describe(AdminGuard.name, () => {
  const sut = new AdminGuard();

  it('lets an admin through', () => {
    expect(sut.canActivate(contextWith(caller('admin')))).toBe(true);
  });

  it('answers FORBIDDEN to a signed-in user who is not an admin', () => {
    expect(() => sut.canActivate(contextWith(caller('user')))).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });

  it('answers UNAUTHENTICATED when no guard authenticated the request', () => {
    expect(() => sut.canActivate(contextWith())).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
  });
});
