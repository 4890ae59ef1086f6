/**
 * A mock of every method of `type` that fails when called, so a unit test states each collaborator
 * call it expects (mockResolvedValue and friends) and an unplanned one fails it. An `async` method
 * rejects, any other throws, as the real ones would; getters are left out (assign the value a test needs).
 */
export function strictMock<T extends object>(type: abstract new (...args: never[]) => T): jest.Mocked<T> {
  const mock: Record<string, jest.Mock> = {};
  for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(type.prototype))) {
    if (name === 'constructor' || typeof descriptor.value !== 'function') continue;
    const unexpected = () => new Error(`unexpected call: ${type.name}.${name}`);
    mock[name] =
      descriptor.value.constructor.name === 'AsyncFunction'
        ? jest.fn(() => Promise.reject(unexpected()))
        : jest.fn(() => {
            throw unexpected();
          });
  }
  return mock as unknown as jest.Mocked<T>;
}
