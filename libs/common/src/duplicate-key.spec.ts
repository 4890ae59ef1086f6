import { unlessDuplicateKey } from './duplicate-key';

describe(unlessDuplicateKey.name, () => {
  it('returns what the insert returned', async () => {
    expect(await unlessDuplicateKey(async () => 'created')).toBe('created');
  });

  it('answers undefined when a unique index refused the insert', async () => {
    const duplicate = Object.assign(new Error('E11000 duplicate key error'), { code: 11000 });
    expect(await unlessDuplicateKey(() => Promise.reject(duplicate))).toBeUndefined();
  });

  it('rethrows any other failure', async () => {
    const other = Object.assign(new Error('operation exceeded time limit'), { code: 50 });
    await expect(unlessDuplicateKey(() => Promise.reject(other))).rejects.toBe(other);
  });
});
