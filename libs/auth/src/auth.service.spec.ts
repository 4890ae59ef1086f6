import { JwtService } from '@nestjs/jwt';
import { DomainError } from '@app/common';
import { AdminConfig, AuthConfig } from '@app/config';
import { strictMock } from '@app/testing';
import { AuthService } from './auth.service';
import { PasswordHasher } from './password';
import { SessionRevocations } from './session-revocations.service';
import { SessionsService } from './sessions.service';
import { UserCache } from './user-cache.service';
import { UserRecord, UserRepository } from './user.repository';

const since = new Date('2026-01-01T00:00:00Z');
const userStub = {
  active: { _id: '64b7f0c2a1b2c3d4e5f60718', name: 'Ada Lovelace', email: 'ada@example.com', status: 'active', role: 'user', createdAt: since, updatedAt: since } as UserRecord,
  admin: { _id: '64b7f0c2a1b2c3d4e5f6071a', name: 'Boss', email: 'boss@example.com', status: 'active', role: 'admin', createdAt: since, updatedAt: since } as UserRecord,
  inactive: { _id: '64b7f0c2a1b2c3d4e5f60719', name: 'Grace Hopper', email: 'grace@example.com', status: 'inactive', role: 'user', createdAt: since, updatedAt: since } as UserRecord,
};
const HASH = '$2b$04$hash-of-the-password';
const TOKEN = 'header.payload.signature';
const CACHE_VERSION = 7;
const SESSION_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const REFRESH = `rt.${'6'.repeat(24)}.${SESSION_ID}.${'r'.repeat(43)}`;
const tokens = { token: TOKEN, refreshToken: REFRESH, expiresIn: 604_800 };
const issued = { _id: userStub.active._id, name: 'Ada Lovelace', email: 'ada@example.com', ...tokens };
const CLIENT = { userAgent: 'jest', ip: '127.0.0.1' };
/** What jsonwebtoken's verify returns with complete: true. */
const accessToken = (payload: object, typ = 'at+jwt') => ({ header: { alg: 'HS256', typ }, payload });
const newToken = (claims: object = {}) => accessToken({ sub: userStub.active._id, sid: SESSION_ID, aud: 'aicg-api', iat: 1_767_225_600, exp: 1_767_229_200, ...claims });
const oldToken = (claims: object = {}) => accessToken({ sub: userStub.active._id, iat: 1_767_225_600, exp: 1_767_229_200, ...claims }, 'JWT');

/** Matches a DomainError by its code and message (toEqual on errors compares messages only). */
function domainError(code: DomainError['code'], message: string) {
  return { name: 'DomainError', code, message };
}

describe(AuthService.name, () => {
  let sut: AuthService;
  let users: jest.Mocked<UserRepository>;
  let passwords: jest.Mocked<PasswordHasher>;
  let jwt: jest.Mocked<JwtService>;
  let cache: jest.Mocked<UserCache>;
  let sessions: jest.Mocked<SessionsService>;
  let revocations: jest.Mocked<SessionRevocations>;

  beforeEach(() => {
    users = strictMock(UserRepository);
    passwords = strictMock(PasswordHasher);
    jwt = strictMock(JwtService);
    cache = Object.assign(strictMock(UserCache), { version: CACHE_VERSION });
    sessions = strictMock(SessionsService);
    revocations = strictMock(SessionRevocations);
    sut = new AuthService(users, passwords, jwt, cache, { adminEmails: ['boss@example.com'] } as AdminConfig, sessions, revocations, { accessTtlSeconds: 3600 } as AuthConfig);
  });

  /** Nothing cached: the user is read from the database. */
  const notCached = () => cache.get.mockReturnValue(undefined);

  describe('register', () => {
    it('stores the hash, never the password, and starts a session for the new user', async () => {
      passwords.hash.mockResolvedValue(HASH);
      users.create.mockResolvedValue(userStub.active);
      sessions.start.mockResolvedValue({ ...tokens, sessionId: SESSION_ID });

      expect(await sut.register({ name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse' }, CLIENT)).toEqual(issued);

      expect(passwords.hash).toHaveBeenCalledWith('correct horse');
      expect(users.create).toHaveBeenCalledWith({ name: 'Ada Lovelace', email: 'ada@example.com', passwordHash: HASH, role: 'user' });
      expect(sessions.start).toHaveBeenCalledWith(userStub.active._id, CLIENT);
    });

    it.each([
      ['a common password', 'password123', 'password is one of the most common passwords; choose another'],
      ['the email', 'Ada@Example.com', 'password must not contain your email address'],
    ])('refuses %s with INVALID_ARGUMENT naming password, before any bcrypt work', async (_name, password, message) => {
      await expect(sut.register({ name: 'Ada', email: 'ada@example.com', password })).rejects.toMatchObject({
        ...domainError('INVALID_ARGUMENT', message),
        details: { details: [{ field: 'password', errors: [message] }] },
      });
      expect(passwords.hash).not.toHaveBeenCalled();
    });

    it('makes an account whose email is in ADMIN_EMAILS an admin, whatever its case', async () => {
      passwords.hash.mockResolvedValue(HASH);
      users.create.mockResolvedValue({ ...userStub.admin });
      sessions.start.mockResolvedValue({ ...tokens, sessionId: SESSION_ID });

      await sut.register({ name: 'Boss', email: 'Boss@Example.com', password: 'correct horse' });

      expect(users.create).toHaveBeenCalledWith({ name: 'Boss', email: 'Boss@Example.com', passwordHash: HASH, role: 'admin' });
    });

    it('answers EMAIL_TAKEN when the email is already registered', async () => {
      passwords.hash.mockResolvedValue(HASH);
      users.create.mockResolvedValue(undefined);

      await expect(sut.register({ name: 'Ada', email: 'ada@example.com', password: 'correct horse' })).rejects.toMatchObject(
        domainError('EMAIL_TAKEN', 'A user with this email already exists'),
      );
      expect(sessions.start).not.toHaveBeenCalled();
    });
  });

  describe('login', () => {
    it('starts a session when the password matches the stored hash (no password policy at login)', async () => {
      users.findByEmailWithHash.mockResolvedValue({ ...userStub.active, passwordHash: HASH });
      passwords.verify.mockResolvedValue(true);
      sessions.start.mockResolvedValue({ ...tokens, sessionId: SESSION_ID });

      expect(await sut.login({ email: 'ada@example.com', password: 'correct horse' }, CLIENT)).toEqual(issued);
      expect(sessions.start).toHaveBeenCalledWith(userStub.active._id, CLIENT);
      expect(users.findByEmailWithHash).toHaveBeenCalledWith('ada@example.com');
      expect(passwords.verify).toHaveBeenCalledWith('correct horse', HASH);
    });

    it.each([
      ['becomes admin once its email is listed', { ...userStub.active, email: 'boss@example.com' }, 'admin'],
      ['becomes user again once its email is no longer listed', { ...userStub.active, role: 'admin' as const }, 'user'],
    ])('an account %s, and every instance forgets its cached role', async (_name, stored, role) => {
      users.findByEmailWithHash.mockResolvedValue({ ...stored, passwordHash: HASH });
      passwords.verify.mockResolvedValue(true);
      users.setRole.mockResolvedValue();
      cache.invalidate.mockResolvedValue();
      sessions.start.mockResolvedValue({ ...tokens, sessionId: SESSION_ID });

      await sut.login({ email: stored.email, password: 'correct horse' });

      expect(users.setRole).toHaveBeenCalledWith(stored._id, role);
      expect(cache.invalidate).toHaveBeenCalledWith(stored._id);
    });

    it('leaves a role that already follows ADMIN_EMAILS alone', async () => {
      users.findByEmailWithHash.mockResolvedValue({ ...userStub.admin, passwordHash: HASH });
      passwords.verify.mockResolvedValue(true);
      sessions.start.mockResolvedValue({ ...tokens, sessionId: SESSION_ID });

      await sut.login({ email: 'boss@example.com', password: 'correct horse' });

      expect(users.setRole).not.toHaveBeenCalled();
      expect(cache.invalidate).not.toHaveBeenCalled();
    });

    it('answers INVALID_CREDENTIALS to a wrong password', async () => {
      users.findByEmailWithHash.mockResolvedValue({ ...userStub.active, passwordHash: HASH });
      passwords.verify.mockResolvedValue(false);

      await expect(sut.login({ email: 'ada@example.com', password: 'wrong' })).rejects.toMatchObject(domainError('INVALID_CREDENTIALS', 'Invalid credentials'));
      expect(sessions.start).not.toHaveBeenCalled();
    });

    it('answers an unknown email the same way, after a password check all the same (same timing)', async () => {
      users.findByEmailWithHash.mockResolvedValue(undefined);
      passwords.verify.mockResolvedValue(false);

      await expect(sut.login({ email: 'nobody@example.com', password: 'whatever' })).rejects.toMatchObject(domainError('INVALID_CREDENTIALS', 'Invalid credentials'));
      expect(passwords.verify).toHaveBeenCalledWith('whatever', undefined);
    });

    it('answers USER_INACTIVE to the right password of a deactivated account', async () => {
      users.findByEmailWithHash.mockResolvedValue({ ...userStub.inactive, passwordHash: HASH });
      passwords.verify.mockResolvedValue(true);

      await expect(sut.login({ email: 'grace@example.com', password: 'correct horse' })).rejects.toMatchObject(domainError('USER_INACTIVE', 'This account is inactive'));
      expect(sessions.start).not.toHaveBeenCalled();
    });
  });

  describe('me', () => {
    it('returns the cached user without reading the database', async () => {
      cache.get.mockReturnValue(userStub.active);

      expect(await sut.me(userStub.active._id)).toBe(userStub.active);
      expect(cache.get).toHaveBeenCalledWith(userStub.active._id);
      expect(users.findById).not.toHaveBeenCalled();
    });

    it('reads an uncached user and remembers it with the cache version read before the read', async () => {
      notCached();
      users.findById.mockResolvedValue(userStub.active);
      cache.remember.mockReturnValue();

      expect(await sut.me(userStub.active._id)).toBe(userStub.active);
      expect(users.findById).toHaveBeenCalledWith(userStub.active._id);
      expect(cache.remember).toHaveBeenCalledWith(userStub.active, CACHE_VERSION);
    });

    it.each([
      ['a missing user', undefined],
      ['an inactive user', userStub.inactive],
    ])('answers UNAUTHENTICATED for %s and remembers nothing', async (_name, stored) => {
      notCached();
      users.findById.mockResolvedValue(stored);

      await expect(sut.me('64b7f0c2a1b2c3d4e5f60719')).rejects.toMatchObject(domainError('UNAUTHENTICATED', 'User not found'));
      expect(cache.remember).not.toHaveBeenCalled();
    });
  });

  describe('setStatus', () => {
    it('changes the status, then makes every instance forget the user', async () => {
      users.setStatus.mockResolvedValue(true);
      cache.invalidate.mockResolvedValue();

      await sut.setStatus(userStub.active._id, 'inactive');

      expect(users.setStatus).toHaveBeenCalledWith(userStub.active._id, 'inactive');
      expect(cache.invalidate).toHaveBeenCalledWith(userStub.active._id);
      expect(users.setStatus.mock.invocationCallOrder[0]).toBeLessThan(cache.invalidate.mock.invocationCallOrder[0]);
    });

    it('answers NOT_FOUND for an unknown user and invalidates nothing', async () => {
      users.setStatus.mockResolvedValue(false);

      await expect(sut.setStatus('64b7f0c2a1b2c3d4e5f60799', 'inactive')).rejects.toMatchObject(domainError('NOT_FOUND', 'User not found'));
      expect(cache.invalidate).not.toHaveBeenCalled();
    });
  });

  describe('listUsers', () => {
    const page = (count: number) =>
      Array.from({ length: count }, (_unused, i) => ({ ...userStub.active, _id: `64b7f0c2a1b2c3d4e5f607${String(i).padStart(2, '0')}` }));

    it('reads one more than a page to tell whether a next one exists, and points at it with a cursor', async () => {
      users.list.mockResolvedValue(page(3));

      const result = await sut.listUsers({ search: 'ada', limit: 2 });

      expect(users.list).toHaveBeenCalledWith({ search: 'ada', limit: 3, after: undefined });
      expect(result.users).toEqual(page(2));
      expect(Buffer.from(result.nextCursor!, 'base64url').toString()).toBe(`${since.toISOString()}|64b7f0c2a1b2c3d4e5f60701`);
    });

    it('continues after the cursor and has no next page at the end', async () => {
      users.list.mockResolvedValue(page(1));
      const cursor = Buffer.from(`${since.toISOString()}|64b7f0c2a1b2c3d4e5f60701`).toString('base64url');

      expect(await sut.listUsers({ cursor })).toEqual({ users: page(1) });
      expect(users.list).toHaveBeenCalledWith({ search: undefined, limit: 51, after: { createdAt: since, id: '64b7f0c2a1b2c3d4e5f60701' } });
    });

    it('answers INVALID_ARGUMENT naming the cursor for one it did not issue', async () => {
      await expect(sut.listUsers({ cursor: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({
        ...domainError('INVALID_ARGUMENT', 'cursor is invalid'),
        details: { details: [{ field: 'cursor', errors: ['cursor is invalid'] }] },
      });
      expect(users.list).not.toHaveBeenCalled();
    });
  });

  describe('verifyToken', () => {
    const invalid = domainError('UNAUTHENTICATED', 'Invalid or expired token');

    it('checks the signature with HS256 only, the kind and the session, and returns the active user with the session and times', async () => {
      jwt.verifyAsync.mockResolvedValue(newToken());
      revocations.isRevoked.mockReturnValue(false);
      cache.get.mockReturnValue(userStub.active);
      sessions.touch.mockReturnValue();

      expect(await sut.verifyToken(TOKEN)).toEqual({
        id: userStub.active._id,
        email: 'ada@example.com',
        name: 'Ada Lovelace',
        role: 'user',
        sessionId: SESSION_ID,
        issuedAt: new Date('2026-01-01T00:00:00Z'),
        expiresAt: new Date('2026-01-01T01:00:00Z'),
      });
      expect(jwt.verifyAsync).toHaveBeenCalledWith(TOKEN, { algorithms: ['HS256'], complete: true });
      expect(revocations.isRevoked).toHaveBeenCalledWith({ userId: userStub.active._id, sessionId: SESSION_ID, issuedAtMs: 1_767_225_600_000 });
      expect(sessions.touch).toHaveBeenCalledWith(SESSION_ID);
    });

    it('accepts a token issued before sessions (no sid, aud or typ), checked against tokensValidAfter by its iat', async () => {
      jwt.verifyAsync.mockResolvedValue(oldToken());
      revocations.isRevoked.mockReturnValue(false);
      cache.get.mockReturnValue(userStub.active);

      expect(await sut.verifyToken(TOKEN)).toMatchObject({ id: userStub.active._id, sessionId: undefined });
      expect(revocations.isRevoked).toHaveBeenCalledWith({ userId: userStub.active._id, issuedAtMs: 1_767_225_600_000 });
    });

    it.each([
      ['without exp', oldToken({ exp: undefined })],
      ['without iat', newToken({ iat: undefined })],
      ['living longer than JWT_EXPIRES_IN plus a minute of skew', newToken({ exp: 1_767_225_600 + 3600 + 61 })],
      ['from before sessions, living longer than JWT_EXPIRES_IN', oldToken({ exp: 1_767_225_600 + 7 * 86_400 })],
    ])('answers UNAUTHENTICATED to a token %s (a lowered JWT_EXPIRES_IN retires older long-lived tokens)', async (_name, decoded) => {
      jwt.verifyAsync.mockResolvedValue(decoded);

      await expect(sut.verifyToken(TOKEN)).rejects.toMatchObject(invalid);
      expect(revocations.isRevoked).not.toHaveBeenCalled();
    });

    it('accepts a lifetime up to JWT_EXPIRES_IN plus a minute of skew', async () => {
      jwt.verifyAsync.mockResolvedValue(newToken({ exp: 1_767_225_600 + 3600 + 60 }));
      revocations.isRevoked.mockReturnValue(false);
      cache.get.mockReturnValue(userStub.active);
      sessions.touch.mockReturnValue();

      await expect(sut.verifyToken(TOKEN)).resolves.toMatchObject({ id: userStub.active._id });
    });

    it.each([
      ['revoked (memory)', () => true],
      ['revoked (asked Redis)', () => Promise.resolve(true)],
    ])('answers UNAUTHENTICATED to a token whose session ended: %s, without reading the database', async (_name, answer) => {
      jwt.verifyAsync.mockResolvedValue(newToken());
      revocations.isRevoked.mockImplementation(answer as () => boolean);

      await expect(sut.verifyToken(TOKEN)).rejects.toMatchObject(invalid);
      expect(users.findById).not.toHaveBeenCalled();
    });

    it('answers UNAUTHENTICATED to a token that fails verification (bad signature, expired, other algorithm)', async () => {
      jwt.verifyAsync.mockRejectedValue(new Error('jwt expired'));

      await expect(sut.verifyToken(TOKEN)).rejects.toMatchObject(invalid);
    });

    it.each([
      ['an admin session value (audience and typ claim)', accessToken({ sub: userStub.admin._id, aud: 'aicg:admin-session', typ: 'admin-session' }, 'JWT')],
      ['an audience without a session', oldToken({ aud: 'aicg-api' })],
      ['a typ claim', oldToken({ typ: 'admin-session' })],
      ['another header typ without a session', accessToken({ sub: userStub.active._id }, 'at+jwt')],
      ['a session without the at+jwt header typ', accessToken(newToken().payload, 'JWT')],
      ['a session with another audience', newToken({ aud: 'aicg:admin-session' })],
      ['a session without an audience', newToken({ aud: undefined })],
      ['a malformed session id', newToken({ sid: 'not a session id' })],
      ['a non-string subject', newToken({ sub: 42 })],
    ])('answers UNAUTHENTICATED to %s, without reading anything', async (_name, decoded) => {
      jwt.verifyAsync.mockResolvedValue(decoded);

      await expect(sut.verifyToken(TOKEN)).rejects.toMatchObject(invalid);
      expect(revocations.isRevoked).not.toHaveBeenCalled();
      expect(users.findById).not.toHaveBeenCalled();
    });

    it.each([
      ['an unknown user', undefined],
      ['an inactive user', userStub.inactive],
    ])('answers UNAUTHENTICATED to a valid token of %s', async (_name, stored) => {
      jwt.verifyAsync.mockResolvedValue(oldToken({ sub: '64b7f0c2a1b2c3d4e5f60719' }));
      revocations.isRevoked.mockReturnValue(false);
      notCached();
      users.findById.mockResolvedValue(stored);

      await expect(sut.verifyToken(TOKEN)).rejects.toMatchObject(invalid);
    });
  });

  describe('refresh', () => {
    it('rotates the refresh token of an active user', async () => {
      cache.get.mockReturnValue(userStub.active);
      sessions.refresh.mockResolvedValue(tokens);

      expect(await sut.refresh(REFRESH)).toEqual(tokens);
      expect(cache.get).toHaveBeenCalledWith('6'.repeat(24));
      expect(sessions.refresh).toHaveBeenCalledWith(REFRESH);
    });

    it('refuses an unknown refresh token from Redis alone, reading no database', async () => {
      sessions.refresh.mockRejectedValue(new DomainError('UNAUTHENTICATED', 'Invalid or expired refresh token'));

      await expect(sut.refresh(REFRESH)).rejects.toMatchObject(domainError('UNAUTHENTICATED', 'Invalid or expired refresh token'));
      expect(users.findById).not.toHaveBeenCalled();
      expect(cache.get).not.toHaveBeenCalled();
    });

    it.each([
      ['an access token', 'header.payload.signature'],
      ['garbage', 'rt.nope'],
    ])('answers UNAUTHENTICATED to %s, touching no session', async (_name, value) => {
      await expect(sut.refresh(value)).rejects.toMatchObject(domainError('UNAUTHENTICATED', 'Invalid or expired refresh token'));
    });

    it('answers UNAUTHENTICATED for an inactive user, after the rotation, and ends the session', async () => {
      sessions.refresh.mockResolvedValue(tokens);
      notCached();
      users.findById.mockResolvedValue(userStub.inactive);
      sessions.logout.mockResolvedValue();

      await expect(sut.refresh(REFRESH)).rejects.toMatchObject(domainError('UNAUTHENTICATED', 'Invalid or expired refresh token'));
      expect(sessions.refresh.mock.invocationCallOrder[0]).toBeLessThan(users.findById.mock.invocationCallOrder[0]);
      expect(sessions.logout).toHaveBeenCalledWith('6'.repeat(24), SESSION_ID);
    });
  });

  describe('account deletion', () => {
    const caller = { id: userStub.active._id, email: 'ada@example.com', name: 'Ada Lovelace', role: 'user' as const, sessionId: SESSION_ID };
    const deleting = { ...userStub.active, status: 'inactive' as const, deletingAt: since };

    it('checks the password, marks the account deleting, makes every instance forget it and ends the other sessions', async () => {
      users.findByIdWithHash.mockResolvedValue({ ...userStub.active, passwordHash: HASH });
      passwords.verify.mockResolvedValue(true);
      users.markDeleting.mockResolvedValue(true);
      cache.invalidate.mockResolvedValue();
      sessions.endAll.mockResolvedValue();

      await sut.beginAccountDeletion(caller, 'correct horse');

      expect(passwords.verify).toHaveBeenCalledWith('correct horse', HASH);
      expect(users.markDeleting).toHaveBeenCalledWith(caller.id, expect.any(Date));
      expect(cache.invalidate).toHaveBeenCalledWith(caller.id);
      // Inactive already: a tokensValidAfter would only record the user's id in Redis for nothing.
      expect(sessions.endAll).toHaveBeenCalledWith(caller.id, { keep: SESSION_ID, voidEarlierTokens: false });
    });

    it('leaves the token of a caller without a session usable (no tokensValidAfter), so a repeat can finish it', async () => {
      users.findByIdWithHash.mockResolvedValue({ ...userStub.active, passwordHash: HASH });
      passwords.verify.mockResolvedValue(true);
      users.markDeleting.mockResolvedValue(true);
      cache.invalidate.mockResolvedValue();
      sessions.endAll.mockResolvedValue();

      await sut.beginAccountDeletion({ ...caller, sessionId: undefined }, 'correct horse');

      expect(sessions.endAll).toHaveBeenCalledWith(caller.id, { keep: undefined, voidEarlierTokens: false });
    });

    it('answers FORBIDDEN "password is incorrect" to a wrong password, changing nothing', async () => {
      users.findByIdWithHash.mockResolvedValue({ ...userStub.active, passwordHash: HASH });
      passwords.verify.mockResolvedValue(false);

      await expect(sut.beginAccountDeletion(caller, 'wrong')).rejects.toMatchObject(domainError('FORBIDDEN', 'password is incorrect'));
      expect(users.markDeleting).not.toHaveBeenCalled();
      expect(sessions.endAll).not.toHaveBeenCalled();
    });

    it('finishes with the session records, the user record, then revokes every session and tells every instance', async () => {
      sessions.deleteRecordsOf.mockResolvedValue();
      users.delete.mockResolvedValue();
      sessions.endAll.mockResolvedValue();
      cache.invalidate.mockResolvedValue();

      await sut.finishAccountDeletion(caller.id);

      expect(sessions.deleteRecordsOf).toHaveBeenCalledWith(caller.id);
      expect(users.delete).toHaveBeenCalledWith(caller.id);
      // No tokensValidAfter: with the user record gone, every token of theirs is refused anyway.
      expect(sessions.endAll).toHaveBeenCalledWith(caller.id, { voidEarlierTokens: false });
      expect(users.delete.mock.invocationCallOrder[0]).toBeLessThan(sessions.endAll.mock.invocationCallOrder[0]);
      expect(cache.invalidate).toHaveBeenCalledWith(caller.id);
    });

    it("accepts the token of an account being deleted only when asked to (DELETE /auth/me's repeat)", async () => {
      jwt.verifyAsync.mockResolvedValue(newToken());
      revocations.isRevoked.mockReturnValue(false);
      notCached();
      users.findById.mockResolvedValue(deleting);
      sessions.touch.mockReturnValue();

      await expect(sut.verifyToken(TOKEN)).rejects.toMatchObject(domainError('UNAUTHENTICATED', 'Invalid or expired token'));
      await expect(sut.verifyToken(TOKEN, { allowDeleting: true })).resolves.toMatchObject({ id: caller.id, sessionId: SESSION_ID });
      expect(cache.remember).not.toHaveBeenCalled();
    });

    it('refuses, even when asked, the token of an inactive account that is not being deleted', async () => {
      jwt.verifyAsync.mockResolvedValue(newToken());
      revocations.isRevoked.mockReturnValue(false);
      notCached();
      users.findById.mockResolvedValue(userStub.inactive);

      await expect(sut.verifyToken(TOKEN, { allowDeleting: true })).rejects.toMatchObject(domainError('UNAUTHENTICATED', 'Invalid or expired token'));
    });
  });

  describe('changePassword', () => {
    const caller = { id: userStub.active._id, email: 'ada@example.com', name: 'Ada Lovelace', role: 'user' as const, sessionId: SESSION_ID };

    it('checks the current password, stores the new hash and ends the other sessions, keeping the caller\'s', async () => {
      users.findByIdWithHash.mockResolvedValue({ ...userStub.active, passwordHash: HASH });
      passwords.verify.mockResolvedValue(true);
      passwords.hash.mockResolvedValue('$2b$04$new-hash');
      users.setPasswordHash.mockResolvedValue();
      sessions.endAll.mockResolvedValue();

      await sut.changePassword(caller, { currentPassword: 'correct horse', newPassword: 'another fine phrase' });

      expect(passwords.verify).toHaveBeenCalledWith('correct horse', HASH);
      expect(users.setPasswordHash).toHaveBeenCalledWith(caller.id, '$2b$04$new-hash');
      expect(sessions.endAll).toHaveBeenCalledWith(caller.id, { keep: SESSION_ID, voidEarlierTokens: true });
    });

    it('ends every session but leaves a caller without a session its token (the contract: the OTHER sessions)', async () => {
      users.findByIdWithHash.mockResolvedValue({ ...userStub.active, passwordHash: HASH });
      passwords.verify.mockResolvedValue(true);
      passwords.hash.mockResolvedValue('$2b$04$new-hash');
      users.setPasswordHash.mockResolvedValue();
      sessions.endAll.mockResolvedValue();

      await sut.changePassword({ ...caller, sessionId: undefined }, { currentPassword: 'correct horse', newPassword: 'another fine phrase' });

      expect(sessions.endAll).toHaveBeenCalledWith(caller.id, { keep: undefined, voidEarlierTokens: false });
    });

    it('answers FORBIDDEN with a clear message to a wrong current password, changing nothing', async () => {
      users.findByIdWithHash.mockResolvedValue({ ...userStub.active, passwordHash: HASH });
      passwords.verify.mockResolvedValue(false);

      await expect(sut.changePassword(caller, { currentPassword: 'wrong', newPassword: 'another fine phrase' })).rejects.toMatchObject(
        domainError('FORBIDDEN', 'currentPassword is incorrect'),
      );
      expect(users.setPasswordHash).not.toHaveBeenCalled();
      expect(sessions.endAll).not.toHaveBeenCalled();
    });

    it.each([
      ['a common password', 'iloveyou', 'newPassword is one of the most common passwords; choose another'],
      ['the email', 'ada@example.com!', 'newPassword must not contain your email address'],
      ['the current one', 'correct horse', 'newPassword must differ from currentPassword'],
    ])('refuses %s as newPassword with INVALID_ARGUMENT naming it', async (_name, newPassword, message) => {
      users.findByIdWithHash.mockResolvedValue({ ...userStub.active, passwordHash: HASH });
      passwords.verify.mockResolvedValue(true);

      await expect(sut.changePassword(caller, { currentPassword: 'correct horse', newPassword })).rejects.toMatchObject({
        ...domainError('INVALID_ARGUMENT', message),
        details: { details: [{ field: 'newPassword', errors: [message] }] },
      });
      expect(users.setPasswordHash).not.toHaveBeenCalled();
    });
  });

  describe('changeName', () => {
    it('renames the user, then makes every instance forget it', async () => {
      users.rename.mockResolvedValue({ ...userStub.active, name: 'Ada King' });
      cache.invalidate.mockResolvedValue();

      expect(await sut.changeName(userStub.active._id, 'Ada King')).toMatchObject({ name: 'Ada King' });
      expect(cache.invalidate).toHaveBeenCalledWith(userStub.active._id);
    });
  });
});
