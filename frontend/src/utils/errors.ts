// Every error the API (or the network) can produce, in words for people.
import type { FetchBaseQueryError } from '@reduxjs/toolkit/query'
import type { SerializedError } from '@reduxjs/toolkit'

export type ApiErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } }

export function apiErrorOf(error: unknown): ApiErrorBody['error'] | null {
  const e = error as FetchBaseQueryError | undefined
  if (e && typeof e === 'object' && 'data' in e) {
    const data = e.data as Partial<ApiErrorBody> | undefined
    if (data && typeof data === 'object' && data.error && typeof data.error.code === 'string') return data.error
  }
  return null
}

export function errorCode(error: unknown): string | null {
  return apiErrorOf(error)?.code ?? null
}

const WORDS: Record<string, string> = {
  invalid_credentials: 'The e-mail address or the password is wrong.',
  rate_limited: 'Too many sign-in attempts. Please wait a moment and try again.',
  service_unavailable: "The bank can't answer right now. Please try again in a moment.",
  database_unavailable: "The bank can't answer right now. Please try again in a moment.",
  unknown_recipient: 'No PiggyBank account has this IBAN. Please check it.',
  same_account: "You can't transfer money to your own account.",
  transfer_cancelled: 'This transfer was cancelled after too many wrong mTANs. Please start a new transfer.',
  insufficient_funds: "Your balance doesn't cover this transfer. It was not booked.",
  monthly_limit_exceeded: 'This transfer would exceed your monthly limit. It was not booked.',
  tan_expired: 'The mTAN has expired. Please start a new transfer.',
}

/** A sentence for any error a query, a mutation or fetch can end with. */
export function describeError(error: unknown, fallback = 'Something went wrong. Please try again.'): string {
  if (!error) return fallback
  const api = apiErrorOf(error)
  if (api) {
    if (api.code === 'account_locked') {
      const wait = Number(api.details?.retryAfter)
      return `Too many wrong passwords: this account is locked${wait ? ` for ${wait} seconds` : ' for a while'}.`
    }
    if (api.code === 'monthly_limit_exceeded' && api.details?.remaining)
      return `${WORDS.monthly_limit_exceeded} €${api.details.remaining} of this month's limit remain.`
    return WORDS[api.code] ?? api.message ?? fallback
  }
  const e = error as FetchBaseQueryError | SerializedError
  if ('status' in e) {
    if (e.status === 'FETCH_ERROR') return "The bank can't be reached. Please check your connection and try again."
    if (e.status === 'TIMEOUT_ERROR') return 'The bank took too long to answer. Please try again.'
    if (e.status === 'PARSING_ERROR') return "The bank's answer could not be read. Please try again."
    if (typeof e.status === 'number' && e.status >= 500) return "The bank can't answer right now. Please try again."
  }
  if ('message' in e && e.message) return e.message
  return fallback
}

/** Errors after which the same request may simply be sent again (nothing was decided). */
export function isRetryable(error: unknown): boolean {
  const e = error as FetchBaseQueryError | undefined
  if (!e || !('status' in e)) return false
  return e.status === 'FETCH_ERROR' || e.status === 'TIMEOUT_ERROR' || (typeof e.status === 'number' && e.status >= 500)
}
