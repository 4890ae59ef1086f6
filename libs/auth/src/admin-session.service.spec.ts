import { JwtService } from '@nestjs/jwt';
import { DomainError } from '@app/common';
import { strictMock } from '@app/testing';
import { ADMIN_SESSION_AUDIENCE, ADMIN_SESSION_TTL_SECONDS, AdminSessionService } from './admin-session.service';
import { AuthService } from './auth.service';
import { AuthUser } from './auth.types';
import { UserRecord } from './user.repository';

const since = new Date('2026-01-01T00:00:00Z');
const userStub = {
  admin: { _id: '64b7f0c2a1b2c3d4e5f6071a', name: 'Boss', email: 'boss@example.com', status: 'active', role: 'admin', createdAt: since, updatedAt: since } as UserRecord,
};
const adminCaller: AuthUser = { id: userStub.admin._id, email: 'boss@example.com', name: 'Boss', role: 'admin' };

function domainError(code: DomainError['code']) {
  return { name: 'DomainError', code };
}

describe(AdminSessionService.name, () => {
  // A real signer: the claims and their checks are what is under test.
  const jwt = new JwtService({ secret: 'a-test-secret-that-is-long-enough-for-hs256', signOptions: { algorithm: 'HS256', expiresIn: '7d' } });
  let auth: jest.Mocked<AuthService>;
  let sut: AdminSessionService;

  beforeEach(() => {
    auth = strictMock(AuthService);
    sut = new AdminSessionService(jwt, auth);
  });

  it("issues a value with its own audience and type, the admin as subject, expiring after the session's lifetime", async () => {
    const value = await sut.issue(adminCaller);

    const claims = jwt.decode<Record<string, unknown>>(value);
    expect(claims).toMatchObject({ sub: userStub.admin._id, aud: ADMIN_SESSION_AUDIENCE, typ: 'admin-session' });
    expect((claims.exp as number) - (claims.iat as number)).toBe(ADMIN_SESSION_TTL_SECONDS);
  });

  it('refuses to issue one for a user who is not an admin', async () => {
    await expect(sut.issue({ ...adminCaller, role: 'user' })).rejects.toMatchObject(domainError('FORBIDDEN'));
  });

  it('verifies its own value and returns the user as the cache has it now', async () => {
    auth.me.mockResolvedValue(userStub.admin);
    auth.isRevoked.mockResolvedValue(false);

    expect(await sut.verify(await sut.issue(adminCaller))).toEqual(adminCaller);
    expect(auth.me).toHaveBeenCalledWith(userStub.admin._id);
  });

  it("ends with the session it was opened from (logout, logout-all, a password change)", async () => {
    auth.me.mockResolvedValue(userStub.admin);
    auth.isRevoked.mockResolvedValue(true);
    const value = await sut.issue({ ...adminCaller, sessionId: 'AAAAAAAAAAAAAAAAAAAAAA' });

    await expect(sut.verify(value)).rejects.toMatchObject(domainError('UNAUTHENTICATED'));
    expect(auth.isRevoked).toHaveBeenCalledWith(expect.objectContaining({ id: userStub.admin._id, sessionId: 'AAAAAAAAAAAAAAAAAAAAAA', issuedAt: expect.any(Date) }));
  });

  it('answers UNAUTHENTICATED when the user is no longer active', async () => {
    auth.me.mockRejectedValue(new DomainError('UNAUTHENTICATED', 'User not found'));

    await expect(sut.verify(await sut.issue(adminCaller))).rejects.toMatchObject(domainError('UNAUTHENTICATED'));
  });

  it.each([
    ['an old-style API token (no audience)', () => jwt.signAsync({}, { subject: userStub.admin._id })],
    [
      'an access token (at+jwt, API audience, session)',
      () => jwt.signAsync({ sid: 'AAAAAAAAAAAAAAAAAAAAAA' }, { subject: userStub.admin._id, audience: 'aicg-api', header: { alg: 'HS256', typ: 'at+jwt' } }),
    ],
    [
      'an access token that also claims the admin type',
      () => jwt.signAsync({ sid: 'AAAAAAAAAAAAAAAAAAAAAA', typ: 'admin-session' }, { subject: userStub.admin._id, audience: 'aicg-api', header: { alg: 'HS256', typ: 'at+jwt' } }),
    ],
    ['a refresh token', async () => `rt.${userStub.admin._id}.AAAAAAAAAAAAAAAAAAAAAA.${'r'.repeat(43)}`],
    ['a value without the session type', () => jwt.signAsync({}, { subject: userStub.admin._id, audience: ADMIN_SESSION_AUDIENCE })],
    ['an expired session', () => jwt.signAsync({ typ: 'admin-session' }, { subject: userStub.admin._id, audience: ADMIN_SESSION_AUDIENCE, expiresIn: -1 })],
    ['another signature', () => new JwtService({ secret: 'another-secret-that-is-long-enough-too' }).signAsync({ typ: 'admin-session' }, { subject: userStub.admin._id, audience: ADMIN_SESSION_AUDIENCE })],
    ['garbage', async () => 'not-a-jwt'],
  ])('answers UNAUTHENTICATED to %s without looking the user up', async (_name, make) => {
    await expect(sut.verify(await make())).rejects.toMatchObject(domainError('UNAUTHENTICATED'));
  });
});
