/** The harness could not provide a real server (missing binary, failed start); the message says what to do. */
export class HarnessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HarnessError';
  }
}
