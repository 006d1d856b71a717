/**
 * The harness could not provide a real server (missing binary, failed start) or the state it waited for (a node
 * never became active); the message says what to do or what the processes involved printed last.
 */
export class HarnessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HarnessError';
  }
}
