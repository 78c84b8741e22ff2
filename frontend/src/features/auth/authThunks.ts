// Signing in and out, with the API and the rest of the state.
import { createAsyncThunk } from '@reduxjs/toolkit'
import { apiSlice, endSession } from '../api/apiSlice'
import { loggedIn, type AuthState } from './authSlice'

type State = { auth: AuthState }

export const login = createAsyncThunk<void, { email: string; password: string }, { state: State }>(
  'auth/login',
  async ({ email, password }, { dispatch, rejectWithValue }) => {
    const result = dispatch(apiSlice.endpoints.login.initiate({ username: email.trim(), password }))
    try {
      const token = await result.unwrap()
      dispatch(loggedIn({ token: token.access_token, expiresIn: token.expires_in, email: email.trim() }))
    } catch (error) {
      return rejectWithValue(error)
    } finally {
      result.reset()
    }
  },
)

/** Revokes the token on the server (whatever it answers), closes the WebSocket, resets the state. */
export const logout = createAsyncThunk<void, void, { state: State }>('auth/logout', async (_, { dispatch, getState }) => {
  const token = getState().auth.token
  if (token) {
    const result = dispatch(apiSlice.endpoints.logout.initiate(token))
    try {
      await result.unwrap()
    } catch {
      /* the token is dropped here either way; the server forgets it when it expires */
    }
  }
  dispatch(endSession('You have signed out.'))
})
