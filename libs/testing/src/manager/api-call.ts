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
 * endpoint's (T) for a success status, the error body (E, an ErrorBody unless the endpoint
 * says otherwise) for any other. Awaited as it is, the body may be either.
 */
export class ApiCall<T, E = ErrorBody> implements PromiseLike<ApiResponse<T | E>> {
  constructor(private readonly test: Test) {}

  /** Adds a request header (a request id, a content type). */
  set(field: string, value: string): this {
    this.test.set(field, value);
    return this;
  }

  expect(status: SuccessStatus): Promise<ApiResponse<T>>;
  expect(status: number): Promise<ApiResponse<E>>;
  async expect(status: number): Promise<ApiResponse<T | E>> {
    return toApiResponse(await this.test.expect(status));
  }

  then<R1 = ApiResponse<T | E>, R2 = never>(
    onFulfilled?: ((value: ApiResponse<T | E>) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): PromiseLike<R1 | R2> {
    return this.test.then((res) => toApiResponse<T | E>(res)).then(onFulfilled, onRejected);
  }
}

/** Whether `res` is a success (2xx), which types its body as the endpoint's. */
export function succeeded<T>(res: ApiResponse<T | ErrorBody>): res is ApiResponse<T> {
  return res.status >= 200 && res.status < 300;
}

function toApiResponse<T>(res: Response): ApiResponse<T> {
  return {
    status: res.status,
    headers: res.headers,
    body: res.body as T,
    text: res.text,
  };
}
