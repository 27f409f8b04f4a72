import type { ErrorBody } from '@app/contracts';
import type { Response, Test } from 'supertest';

/** An answer of the manager's API: status, headers, the parsed JSON body, and the raw text. */
export interface ApiResponse<T> {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: T;
  readonly text: string;
}

/** The statuses the manager answers a successful call with; every other one carries an ErrorBody. */
export type SuccessStatus = 200 | 201 | 204;

/**
 * One request to the manager, sent when awaited or by `expect`. `expect(status)` fails the test
 * unless the answer has that status (with supertest's message) and types its body: the
 * endpoint's for a success status, an ErrorBody for any other. Awaited as it is, the body may
 * be either.
 */
export class ApiCall<T> implements PromiseLike<ApiResponse<T | ErrorBody>> {
  constructor(private readonly test: Test) {}

  /** Adds a request header (a request id, a content type). */
  set(field: string, value: string): this {
    this.test.set(field, value);
    return this;
  }

  expect(status: SuccessStatus): Promise<ApiResponse<T>>;
  expect(status: number): Promise<ApiResponse<ErrorBody>>;
  async expect(status: number): Promise<ApiResponse<T | ErrorBody>> {
    return toApiResponse(await this.test.expect(status));
  }

  then<R1 = ApiResponse<T | ErrorBody>, R2 = never>(
    onFulfilled?: ((value: ApiResponse<T | ErrorBody>) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): PromiseLike<R1 | R2> {
    return this.test.then((res) => toApiResponse<T | ErrorBody>(res)).then(onFulfilled, onRejected);
  }
}

function toApiResponse<T>(res: Response): ApiResponse<T> {
  return {
    status: res.status,
    headers: res.headers,
    body: res.body as T,
    text: res.text,
  };
}
