// Short messages in the corner ("You received €10.00 from ..."). Plain text only: React escapes it.
import { createSlice, nanoid, type PayloadAction } from '@reduxjs/toolkit'

export type Toast = { id: string; text: string; kind: 'money' | 'success' | 'info' | 'error' }

const toastsSlice = createSlice({
  name: 'toasts',
  initialState: [] as Toast[],
  reducers: {
    toastShown: {
      reducer(state, action: PayloadAction<Toast>) {
        state.push(action.payload)
        if (state.length > 4) state.shift()
      },
      prepare: (text: string, kind: Toast['kind'] = 'info') => ({ payload: { id: nanoid(), text, kind } }),
    },
    toastDismissed(state, action: PayloadAction<string>) {
      return state.filter((t) => t.id !== action.payload)
    },
  },
  selectors: { selectToasts: (state) => state },
})

export const { toastShown, toastDismissed } = toastsSlice.actions
export const { selectToasts } = toastsSlice.selectors
export default toastsSlice
