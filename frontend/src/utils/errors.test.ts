// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { describeError, isRetryable } from './errors'

const api = (status: number, code: string, message = 'server words', details?: object) =>
  ({ status, data: { error: { code, message, details } } })

describe('describeError', () => {
  it('puts known codes in words', () => {
    expect(describeError(api(401, 'invalid_credentials'))).toBe('The e-mail address or the password is wrong.')
    expect(describeError(api(410, 'tan_expired'))).toMatch(/expired/)
  })

  it("uses the server's message for codes it doesn't know", () => {
    expect(describeError(api(422, 'amount_too_large', 'The amount can be at most 100000.00.'))).toBe(
      'The amount can be at most 100000.00.')
  })

  it('says how long a locked account waits', () => {
    expect(describeError(api(429, 'account_locked', 'locked', { retryAfter: 60 }))).toMatch(/locked for 60 seconds/)
  })

  it('explains network trouble', () => {
    expect(describeError({ status: 'FETCH_ERROR', error: 'TypeError' })).toMatch(/can't be reached/)
    expect(describeError({ status: 502, data: '<html>' })).toMatch(/can't answer/)
  })

  it('knows which failures may be retried with the same request', () => {
    expect(isRetryable({ status: 'FETCH_ERROR', error: 'x' })).toBe(true)
    expect(isRetryable({ status: 503, data: null })).toBe(true)
    expect(isRetryable(api(422, 'unknown_recipient'))).toBe(false)
  })
})
