/**
 * A mock of every method of `type` that fails when called, so a unit test states each collaborator
 * call it expects (mockResolvedValue and friends) and an unplanned one fails it.
 */
export function strictMock<T extends object>(type: abstract new (...args: never[]) => T): jest.Mocked<T> {
  const mock: Record<string, jest.Mock> = {};
  for (const name of Object.getOwnPropertyNames(type.prototype)) {
    if (name === 'constructor') continue;
    mock[name] = jest.fn(() => Promise.reject(new Error(`unexpected call: ${type.name}.${name}`)));
  }
  return mock as unknown as jest.Mocked<T>;
}
