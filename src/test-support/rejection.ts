/**
 * What a promise rejected with; fails the test when it resolved instead. With `type`, it also fails when
 * the rejection is anything else, so a test reads the error it expects without casts of its own.
 */
export async function rejectionOf<T = unknown>(
  promise: Promise<unknown>,
  type?: abstract new (...args: never[]) => T,
): Promise<T> {
  let settledWith: { value: unknown } | undefined;
  try {
    await promise;
  } catch (error) {
    settledWith = { value: error };
  }
  if (!settledWith) throw new Error('expected the promise to reject, but it resolved');
  if (type && !(settledWith.value instanceof type)) {
    throw new Error(`expected a ${type.name}, got ${String(settledWith.value)}`);
  }
  return settledWith.value as T;
}
