// The one RTK Query API of the app. Features add their endpoints with injectEndpoints; queries
// provide tags and mutations invalidate them, so lists and balances refresh by themselves.
import { createApi, fetchBaseQuery, type BaseQueryFn, type FetchArgs, type FetchBaseQueryError } from '@reduxjs/toolkit/query/react'
import { loggedOut, type AuthState } from '../auth/authSlice'
import type { Tag, Token, User } from './types'

type WithAuth = { auth: AuthState }

const rawBaseQuery = fetchBaseQuery({
  // Same origin as the page, whatever host serves it (never a hard-coded host).
  baseUrl: typeof window === 'undefined' ? '/' : `${window.location.origin}/`,
  timeout: 15000,
  prepareHeaders(headers, { getState }) {
    const token = (getState() as WithAuth).auth.token
    if (token && !headers.has('Authorization')) headers.set('Authorization', `JWT ${token}`)
    return headers
  },
})

const SIGN_IN_ENDPOINTS = new Set(['login', 'logout'])

/** Any 401 on a signed-in request ends the session and sends the user to the login page. */
const baseQuery: BaseQueryFn<string | FetchArgs, unknown, FetchBaseQueryError> = async (args, api, extra) => {
  const tokenUsed = (api.getState() as WithAuth).auth.token
  const result = await rawBaseQuery(args, api, extra)
  if (result.error?.status === 401 && !SIGN_IN_ENDPOINTS.has(api.endpoint) && tokenUsed &&
      (api.getState() as WithAuth).auth.token === tokenUsed) {
    const body = result.error.data as { error?: { message?: string } } | undefined
    api.dispatch(endSession(/expired/i.test(body?.error?.message ?? '')
      ? 'Your session has expired. Please sign in again.'
      : 'You were signed out. Please sign in again.'))
  }
  return result
}

export const apiSlice = createApi({
  reducerPath: 'api',
  baseQuery,
  tagTypes: ['User', 'Account', 'Activity', 'Tags', 'Stats', 'Sms', 'Notifications'],
  refetchOnReconnect: true,
  endpoints: (build) => ({
    login: build.mutation<Token, { username: string; password: string }>({
      query: (body) => ({ url: 'auth', method: 'POST', body }),
    }),
    logout: build.mutation<{ revoked: boolean }, string>({
      query: (token) => ({ url: 'auth/logout', method: 'POST', headers: { Authorization: `JWT ${token}` } }),
    }),
    getUser: build.query<User, void>({
      query: () => 'api/user',
      providesTags: ['User', 'Account'],
    }),
    getTags: build.query<Tag[], void>({
      query: () => 'api/tags',
      transformResponse: (body: { tags: Tag[] }) => body.tags,
      providesTags: ['Tags'],
      keepUnusedDataFor: 3600,
    }),
  }),
})

/** Forget everything: the whole Redux state and every cache entry (which closes the WebSocket). */
export function endSession(message: string | null = null) {
  return (dispatch: (action: unknown) => unknown) => {
    dispatch(loggedOut({ message }))
    dispatch(apiSlice.util.resetApiState())
  }
}

export const { useLoginMutation, useLogoutMutation, useGetUserQuery, useGetTagsQuery } = apiSlice
