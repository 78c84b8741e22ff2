// @vitest-environment node
import { describe, expect, it } from 'vitest'
import type { Transfer } from '../api/types'
import transferSlice, { attemptStarted, draftChanged, startedOver, tanRejected, toRequest, transferBooked, transferCreated } from './transferSlice'

const reduce = transferSlice.reducer
const pending: Transfer = {
  id: 7, status: 'pending', amount: '10.00', currency: 'EUR', recipientIban: 'AT691000100000000002',
  recipientName: 'Gabi', comment: '', tags: [], createdAt: '2026-01-01T00:00:00Z', expiresAt: '2026-01-01T00:05:00Z',
  bookedAt: null, tanAttemptsLeft: 3, rejectReason: null,
}

describe('transfer slice: one idempotency key per attempt', () => {
  it('makes a key when an attempt starts and keeps it when the same attempt is retried', () => {
    let state = reduce(undefined, attemptStarted())
    const key = state.attemptKey
    expect(key).toMatch(/^[0-9a-f-]{36}$/)
    state = reduce(state, attemptStarted()) // e.g. a retry after a network error
    expect(state.attemptKey).toBe(key)
  })

  it('drops the key when the data changes: that is another attempt', () => {
    let state = reduce(undefined, attemptStarted())
    state = reduce(state, draftChanged({ amount: '11.00' }))
    expect(state.attemptKey).toBeNull()
    expect(reduce(state, attemptStarted()).attemptKey).not.toBeNull()
  })

  it('goes form → mTAN → done, and forgets the draft once booked', () => {
    let state = reduce(undefined, draftChanged({ recipientName: 'Gabi', amount: '10.00' }))
    state = reduce(state, attemptStarted())
    state = reduce(state, transferCreated(pending))
    expect(state.step).toBe('tan')
    state = reduce(state, tanRejected(2))
    expect(state.pending?.tanAttemptsLeft).toBe(2)
    state = reduce(state, transferBooked({ ...pending, status: 'booked' }))
    expect(state).toMatchObject({ step: 'done', pending: null, attemptKey: null, draft: { recipientName: '' } })
  })

  it('can start over keeping the details (with a new key)', () => {
    let state = reduce(undefined, draftChanged({ recipientName: 'Gabi' }))
    state = reduce(reduce(state, attemptStarted()), transferCreated(pending))
    state = reduce(state, startedOver({ keepDraft: true }))
    expect(state).toMatchObject({ step: 'form', pending: null, attemptKey: null, draft: { recipientName: 'Gabi' } })
  })

  it('sends the IBAN without spaces and the name trimmed', () => {
    const draft = { recipientName: ' Gabi ', recipientIban: 'at69 1000 1000 0000 0002', amount: '10', comment: ' x ', tags: ['Leisure'] }
    expect(toRequest(draft, '10.00')).toEqual({
      recipientIban: 'AT691000100000000002', recipientName: 'Gabi', amount: '10.00', comment: 'x', tags: ['Leisure'],
    })
  })
})
