import { ImagineError } from '../core/errors/imagine-error.ts';

/** The `ImagineError` an action is refused with; fails the test when it succeeds or throws anything else. */
export async function imagineRefusal(action: () => Promise<unknown>): Promise<ImagineError> {
  try {
    await action();
  } catch (error) {
    if (ImagineError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an ImagineError');
}
