// Who is signed in: the token (kept in sessionStorage so a reload keeps the session, but closing
// the tab ends it) and a message for the login page ("you were signed out because ...").
import { createSlice, type PayloadAction } from '@reduxjs/toolkit'

export type AuthState = {
  token: string | null
  expiresAt: number | null // ms since the epoch
  email: string | null
  message: string | null
}

export const initialAuthState: AuthState = { token: null, expiresAt: null, email: null, message: null }

const authSlice = createSlice({
  name: 'auth',
  initialState: initialAuthState,
  reducers: {
    loggedIn: {
      reducer(state, action: PayloadAction<{ token: string; expiresAt: number; email: string }>) {
        state.token = action.payload.token
        state.expiresAt = action.payload.expiresAt
        state.email = action.payload.email
        state.message = null
      },
      prepare(payload: { token: string; expiresIn: number; email: string }) {
        return { payload: { token: payload.token, email: payload.email, expiresAt: Date.now() + payload.expiresIn * 1000 } }
      },
    },
    /** Resets the whole state (see makeStore); the message is shown on the login page. */
    loggedOut(state, action: PayloadAction<{ message?: string | null } | undefined>) {
      state.token = null
      state.expiresAt = null
      state.email = null
      state.message = action.payload?.message ?? null
    },
    messageDismissed(state) {
      state.message = null
    },
  },
  selectors: {
    selectToken: (state) => state.token,
    selectIsLoggedIn: (state) => state.token !== null,
    selectAuthMessage: (state) => state.message,
    selectExpiresAt: (state) => state.expiresAt,
  },
})

export const { loggedIn, loggedOut, messageDismissed } = authSlice.actions
export const { selectToken, selectIsLoggedIn, selectAuthMessage, selectExpiresAt } = authSlice.selectors
export default authSlice

// --- the session in sessionStorage -------------------------------------------------------------

const KEY = 'piggybank.session'

export function loadSession(storage: Storage | undefined = globalThis.sessionStorage): AuthState | undefined {
  try {
    const saved = JSON.parse(storage?.getItem(KEY) ?? 'null')
    if (saved && typeof saved.token === 'string' && typeof saved.expiresAt === 'number' && saved.expiresAt > Date.now())
      return { ...initialAuthState, token: saved.token, expiresAt: saved.expiresAt, email: saved.email ?? null }
  } catch {
    /* a damaged entry is no session */
  }
  storage?.removeItem(KEY)
  return undefined
}

export function saveSession(auth: AuthState, storage: Storage | undefined = globalThis.sessionStorage): void {
  if (auth.token) storage?.setItem(KEY, JSON.stringify({ token: auth.token, expiresAt: auth.expiresAt, email: auth.email }))
  else storage?.removeItem(KEY)
}
