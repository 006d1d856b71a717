import assert from 'node:assert/strict';

/** The API's one error shape (src/api/errors.ts). */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Checks a response is the API error `code` with `status`, and returns its body. */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as ErrorBody;
  assert.equal(body.error.code, code, text);
  assert.equal(typeof body.error.message, 'string');
  return body;
}
