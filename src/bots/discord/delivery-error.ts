/**
 * An image was made and charged, but Discord would not take the message that carries it. The person is
 * told where the image is instead of "you were not charged", which would be untrue.
 */
export class DeliveryError extends Error {
  readonly imageUrl: string;

  constructor(imageUrl: string, options?: { cause?: unknown }) {
    super('the finished image could not be posted to Discord', options);
    this.name = 'DeliveryError';
    this.imageUrl = imageUrl;
  }

  /** What the person sees. */
  get userMessage(): string {
    return `Your image was made, but Discord would not take the message. You can open it here: ${this.imageUrl}`;
  }
}
