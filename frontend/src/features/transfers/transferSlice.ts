// The two-step transfer: the form's draft, the idempotency key of the current attempt, the
// pending transfer waiting for its mTAN, and the booked result.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit'
import type { NewTransfer, Transfer } from '../api/types'

export type Draft = { recipientName: string; recipientIban: string; amount: string; comment: string; tags: string[] }
export type TransferState = {
  step: 'form' | 'tan' | 'done'
  draft: Draft
  /** One key per attempt: kept when the same request is retried, dropped when the draft changes. */
  attemptKey: string | null
  pending: Transfer | null
  booked: Transfer | null
}

export const emptyDraft: Draft = { recipientName: '', recipientIban: '', amount: '', comment: '', tags: [] }
const initialState: TransferState = { step: 'form', draft: emptyDraft, attemptKey: null, pending: null, booked: null }

const transferSlice = createSlice({
  name: 'transfer',
  initialState,
  reducers: {
    draftChanged(state, action: PayloadAction<Partial<Draft>>) {
      state.draft = { ...state.draft, ...action.payload }
      state.attemptKey = null // other data, another attempt
    },
    attemptStarted: {
      reducer(state, action: PayloadAction<string>) {
        state.attemptKey ??= action.payload
      },
      prepare: () => ({ payload: crypto.randomUUID() }),
    },
    transferCreated(state, action: PayloadAction<Transfer>) {
      state.pending = action.payload
      state.step = 'tan'
    },
    tanRejected(state, action: PayloadAction<number>) {
      if (state.pending) state.pending.tanAttemptsLeft = action.payload
    },
    transferBooked(state, action: PayloadAction<Transfer>) {
      state.booked = action.payload
      state.pending = null
      state.step = 'done'
      state.attemptKey = null
      state.draft = emptyDraft
    },
    /** Back to the form: after "change details", a closed transfer or "new transfer". */
    startedOver(state, action: PayloadAction<{ keepDraft: boolean } | undefined>) {
      state.step = 'form'
      state.pending = null
      state.booked = null
      state.attemptKey = null
      if (!action.payload?.keepDraft) state.draft = emptyDraft
    },
  },
  selectors: { selectTransfer: (state) => state },
})

export const { draftChanged, attemptStarted, transferCreated, tanRejected, transferBooked, startedOver } = transferSlice.actions
export const { selectTransfer } = transferSlice.selectors
export default transferSlice

export function toRequest(draft: Draft, amount: string): NewTransfer {
  return {
    recipientIban: draft.recipientIban.replace(/\s+/g, '').toUpperCase(),
    recipientName: draft.recipientName.trim(),
    amount,
    comment: draft.comment.trim(),
    tags: draft.tags,
  }
}
