import { AuthService } from '@app/auth';
import { AuthConfig } from '@app/config';
import { strictMock } from '@app/testing';
import { AccountDeletion, DeletionReport } from './account-deletion.service';
import { AccountDeletionSweep, SWEEP_BATCH } from './account-deletion-sweep.service';
import { SweepLockRepository } from './sweep-lock.repository';

const config = { accountDeletion: { sweepMs: 300_000, resumeAfterMs: 120_000 } } as AuthConfig;
const report = {} as DeletionReport;

describe(AccountDeletionSweep.name, () => {
  let sut: AccountDeletionSweep;
  let auth: jest.Mocked<AuthService>;
  let deletion: jest.Mocked<AccountDeletion>;
  let lock: jest.Mocked<SweepLockRepository>;

  beforeEach(() => {
    auth = strictMock(AuthService);
    deletion = strictMock(AccountDeletion);
    lock = strictMock(SweepLockRepository);
    sut = new AccountDeletionSweep(auth, deletion, lock, config);
  });
  afterEach(() => jest.restoreAllMocks());

  it('under the lock, finishes the deletions begun over ACCOUNT_DELETION_RESUME_AFTER_MS ago, then releases it', async () => {
    lock.acquire.mockResolvedValue('token');
    lock.release.mockResolvedValue();
    auth.accountsLeftDeleting.mockResolvedValue(['u1', 'u2']);
    deletion.finish.mockResolvedValue(report);
    const now = Date.UTC(2026, 10, 24, 12);
    jest.spyOn(Date, 'now').mockReturnValue(now);

    expect(await sut.sweep()).toBe(2);

    expect(lock.acquire).toHaveBeenCalledWith(600_000);
    const [before, limit] = auth.accountsLeftDeleting.mock.calls[0];
    expect(before.getTime()).toBe(now - 120_000);
    expect(limit).toBe(SWEEP_BATCH);
    expect(deletion.finish.mock.calls).toEqual([['u1'], ['u2']]);
    expect(lock.release).toHaveBeenCalledWith('token');
  });

  it('does nothing while another instance holds the lock', async () => {
    lock.acquire.mockResolvedValue(undefined);

    expect(await sut.sweep()).toBe(0);
    expect(auth.accountsLeftDeleting).not.toHaveBeenCalled();
  });

  it('goes on with the next account when one fails (the next sweep tries it again), and releases the lock', async () => {
    lock.acquire.mockResolvedValue('token');
    lock.release.mockResolvedValue();
    auth.accountsLeftDeleting.mockResolvedValue(['u1', 'u2']);
    deletion.finish.mockRejectedValueOnce(new Error('a job is still stopping')).mockResolvedValueOnce(report);

    expect(await sut.sweep()).toBe(1);
    expect(deletion.finish).toHaveBeenCalledWith('u2');
    expect(lock.release).toHaveBeenCalledWith('token');
  });

  it('survives Redis being away (no lock, no sweep) and tries again next time', async () => {
    lock.acquire.mockRejectedValue(new Error('connection lost'));

    expect(await sut.sweep()).toBe(0);
    expect(auth.accountsLeftDeleting).not.toHaveBeenCalled();
  });
});
