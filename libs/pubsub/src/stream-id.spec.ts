import { compareStreamIds, maxStreamId, parseStreamId, streamIdTime } from './stream-id';

describe('stream ids', () => {
  it.each([
    ['1700000000000-0', '1700000000000-0'],
    ['1700000000000-12', '1700000000000-12'],
    ['1700000000000', '1700000000000-0'],
    [' 0017-1 ', '17-1'],
    [1700000000000, '1700000000000-0'],
  ])('parses %p as %p', (input, expected) => {
    expect(parseStreamId(input)).toBe(expected);
  });

  it.each([['abc'], ['1-2-3'], ['-1'], ['1-'], [''], [1.5], [-1], [null], [{}], ['1'.repeat(16)]])('refuses %p', (input) => {
    expect(parseStreamId(input)).toBeUndefined();
  });

  it('orders by time, then by sequence, numerically', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-10', '10-10')).toBe(0);
    expect(compareStreamIds('11-0', '10-99')).toBeGreaterThan(0);
    expect(maxStreamId(undefined, '1-0')).toBe('1-0');
    expect(maxStreamId('2-0', '1-9')).toBe('2-0');
    expect(streamIdTime('1700000000000-3')).toBe(1700000000000);
  });
});
