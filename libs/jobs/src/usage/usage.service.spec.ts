import { strictMock } from '@app/testing';
import { UsageRepository, UsageRow } from './usage.repository';
import { rangeOf, summarize, UsageService } from './usage.service';

const NOW = Date.parse('2026-11-24T15:00:00Z');
const userId = '64b7f0c2a1b2c3d4e5f60718';
const row = (day: string, model: string, jobs: number, prompt: number, completion: number, cost: number): UsageRow => ({ day, model, jobs, promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion, cost });

describe(UsageService.name, () => {
  let sut: UsageService;
  let records: jest.Mocked<UsageRepository>;

  beforeEach(() => {
    records = strictMock(UsageRepository);
    sut = new UsageService(records);
  });

  it('sums the records of the last 30 days by default, per day (oldest first) and per model', async () => {
    records.sums.mockResolvedValue([row('2026-11-24', 'openai/gpt-4o-mini', 2, 20, 180, 0.1), row('2026-11-20', 'offline', 3, 30, 300, 0), row('2026-11-24', 'anthropic/claude', 1, 10, 90, 0.2)]);

    const report = await sut.report(userId, {}, NOW);

    expect(records.sums).toHaveBeenCalledWith(userId, '2026-10-26', '2026-11-24');
    expect(report).toEqual({
      from: '2026-10-26',
      to: '2026-11-24',
      days: [
        { day: '2026-11-20', jobs: 3, promptTokens: 30, completionTokens: 300, totalTokens: 330, cost: 0, models: [{ model: 'offline', jobs: 3, promptTokens: 30, completionTokens: 300, totalTokens: 330, cost: 0 }] },
        {
          day: '2026-11-24',
          jobs: 3,
          promptTokens: 30,
          completionTokens: 270,
          totalTokens: 300,
          // 0.1 + 0.2 without its binary noise.
          cost: 0.3,
          models: [
            { model: 'anthropic/claude', jobs: 1, promptTokens: 10, completionTokens: 90, totalTokens: 100, cost: 0.2 },
            { model: 'openai/gpt-4o-mini', jobs: 2, promptTokens: 20, completionTokens: 180, totalTokens: 200, cost: 0.1 },
          ],
        },
      ],
      total: { jobs: 6, promptTokens: 60, completionTokens: 570, totalTokens: 630, cost: 0.3 },
    });
  });

  it('answers an empty range with no days and zero totals', () => {
    expect(summarize('2026-11-01', '2026-11-02', [])).toEqual({ from: '2026-11-01', to: '2026-11-02', days: [], total: { jobs: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0 } });
  });

  describe('the range', () => {
    it.each([
      [{ from: '2026-01-01', to: '2026-01-31' }, { from: '2026-01-01', to: '2026-01-31' }],
      [{ from: '2026-11-24' }, { from: '2026-11-24', to: '2026-11-24' }],
      [{ to: '2026-03-01' }, { from: '2026-01-31', to: '2026-03-01' }],
      [{ from: '2025-11-24', to: '2026-11-24' }, { from: '2025-11-24', to: '2026-11-24' }],
    ])('%j covers %j', (query, range) => {
      expect(rangeOf(query, NOW)).toEqual(range);
    });

    it.each([
      [{ from: '2026-13-01' }, 'from', 'from must be a day as YYYY-MM-DD'],
      [{ from: '2026-02-30', to: '2026-03-10' }, 'from', 'from must be a day as YYYY-MM-DD'],
      [{ to: 'yesterday' }, 'to', 'to must be a day as YYYY-MM-DD'],
      [{ to: '2026-11-24T00:00:00Z' }, 'to', 'to must be a day as YYYY-MM-DD'],
      [{ from: '2026-11-25', to: '2026-11-24' }, 'from', 'from must not be after to'],
      [{ from: '2025-11-23', to: '2026-11-24' }, 'from', 'from and to may span at most 366 days'],
    ])('refuses %j naming %s', (query, field, message) => {
      expect(() => rangeOf(query, NOW)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message, details: { details: [{ field, errors: [message] }] } }));
    });
  });
});
