// Pure. Whether the REST client sends a request again after the server turned it away, and how long it waits first:
// client-go's rules (rest/with_retry.go `checkWait`, `NextRetry`; rest/request.go `retryAfterSeconds`). No I/O, no timers.

/**
 * Retry-After as client-go reads it (`strconv.Atoi` of the header): an optionally signed integer number of seconds.
 * An HTTP-date, a fraction or anything else is no instruction (undefined); a negative value means do not wait (0).
 */
export function parseRetryAfterSeconds(header: string | readonly string[] | undefined): number | undefined {
  // Go's Header.Get takes the first value; Node keeps only the first Retry-After anyway.
  const value = typeof header === 'string' ? header : header?.[0];
  if (value === undefined || !/^[+-]?\d+$/.test(value)) return undefined;
  const seconds = Number(value);
  if (!Number.isSafeInteger(seconds)) return undefined;
  return Math.max(0, seconds);
}

export interface RetryInput {
  status: number;
  /** The response's Retry-After header. */
  retryAfter: string | readonly string[] | undefined;
  /** How many times this request has already been retried (0 after the first answer). */
  retries: number;
  maxRetries: number;
  /** Time left before the request's deadline, in milliseconds; Infinity without a timeout. */
  msUntilDeadline: number;
}

export type RetryDecision =
  | { retry: true; waitMs: number }
  | { retry: false; why: 'final' | 'retries-exhausted' | 'past-deadline' };

/**
 * retry ⇔ (status = 429 ∨ status ≥ 500) ∧ Retry-After = s seconds ∧ retries < maxRetries ∧ s × 1000 < msUntilDeadline;
 * then wait s × 1000 ms.
 *
 * The first two terms are client-go's checkWait: the API server sets Retry-After when it did not process the request
 * (priority-and-fairness rejections, max-in-flight, shutting down), so any verb may be sent again. The verb does not
 * matter, as in client-go. Retry-After is not capped (client-go does not cap it either); the deadline bounds it
 * instead: a wait that would outlast the request's timeout is not started, and the caller gets the server's answer
 * now rather than a timeout later.
 */
export function decideRetry(input: RetryInput): RetryDecision {
  if (input.status !== 429 && input.status < 500) return { retry: false, why: 'final' };
  const seconds = parseRetryAfterSeconds(input.retryAfter);
  if (seconds === undefined) return { retry: false, why: 'final' };
  if (input.retries >= input.maxRetries) return { retry: false, why: 'retries-exhausted' };
  const waitMs = seconds * 1000;
  if (waitMs >= input.msUntilDeadline) return { retry: false, why: 'past-deadline' };
  return { retry: true, waitMs };
}
