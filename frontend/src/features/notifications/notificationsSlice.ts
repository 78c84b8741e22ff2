// Notifications: the list comes from GET /api/notifications, then the WebSocket keeps it current.
// As in redux-essentials, the socket lives in the query's onCacheEntryAdded: it opens once the
// list is loaded, pushes what arrives into the cache, reconnects with back-off when it drops
// (sending the last id it saw, so the server replays what was missed), and closes when the
// cache entry goes away, which resetApiState on logout does.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit'
import { apiSlice, endSession } from '../api/apiSlice'
import type { Notification, Notifications } from '../api/types'
import { formatMoney } from '../../utils/format'
import { toastShown } from './toastsSlice'
import type { AuthState } from '../auth/authSlice'

// --- the socket's state, for the badge and the connection indicator ------------------------

export type LiveState = { status: 'offline' | 'connecting' | 'online' | 'reconnecting'; instance: string | null; retries: number }
const initialLive: LiveState = { status: 'offline', instance: null, retries: 0 }

const liveSlice = createSlice({
  name: 'live',
  initialState: initialLive,
  reducers: {
    socketConnecting(state) {
      state.status = state.retries > 0 ? 'reconnecting' : 'connecting'
    },
    socketWelcomed(state, action: PayloadAction<string>) {
      state.status = 'online'
      state.instance = action.payload
      state.retries = 0
    },
    socketDropped(state) {
      state.status = 'reconnecting'
      state.instance = null
      state.retries += 1
    },
    socketClosed() {
      return initialLive
    },
  },
  selectors: { selectLive: (state) => state },
})

export const { socketConnecting, socketWelcomed, socketDropped, socketClosed } = liveSlice.actions
export const { selectLive } = liveSlice.selectors
export default liveSlice

// --- helpers --------------------------------------------------------------------------------

export const CLOSE_UNAUTHORIZED = 4401

/** The socket's URL on the page's own origin (wss: under https:). */
export function socketUrl(location: Pick<Location, 'protocol' | 'host'> = window.location): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/ws`
}

/** 0.5 s, 1 s, 2 s, ... up to 15 s, each ±20 % so that many clients don't come back at once. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(15000, 500 * 2 ** attempt)
  return Math.round(base * (0.8 + 0.4 * random()))
}

export function describeNotification(n: Notification): string {
  if (n.type === 'transfer_received')
    return `You received ${formatMoney(n.amount ?? '0')} from ${n.from ?? 'someone'}${n.comment ? ` \u201c${n.comment}\u201d` : ''}`
  return 'You have a new notification'
}

/** Adds a notification unless the list has it already; true when it was new. */
export function addNotification(draft: Notifications, n: Notification): boolean {
  if (draft.items.some((item) => item.id === n.id)) return false
  draft.items.push(n)
  draft.items.sort((a, b) => a.id - b.id)
  if (!n.read) draft.unread += 1
  return true
}

export function lastIdOf(data: Notifications | undefined): number {
  return data?.items.reduce((max, n) => Math.max(max, n.id), 0) ?? 0
}

// --- the endpoints --------------------------------------------------------------------------

const PAGE = 100 // the API's page size for GET /api/notifications

export const notificationsApi = apiSlice.injectEndpoints({
  endpoints: (build) => ({
    getNotifications: build.query<Notifications, void>({
      async queryFn(_arg, _api, _extra, baseQuery) {
        // Oldest first, 100 at a time: follow the pages to the newest one.
        const all: Notifications = { items: [], unread: 0 }
        for (let page = 0; page < 20; page++) {
          const after = lastIdOf(all)
          const result = await baseQuery({ url: 'api/notifications', params: { after } })
          if (result.error) return { error: result.error }
          const body = result.data as Notifications
          all.items.push(...body.items)
          all.unread = body.unread
          if (body.items.length < PAGE) break
        }
        return { data: all }
      },
      providesTags: ['Notifications'],
      async onCacheEntryAdded(_arg, { updateCachedData, cacheDataLoaded, cacheEntryRemoved, getState, dispatch, getCacheEntry }) {
        try {
          await cacheDataLoaded
        } catch {
          return // removed before it loaded
        }
        let lastId = lastIdOf(getCacheEntry().data)
        let socket: WebSocket | null = null
        let timer: ReturnType<typeof setTimeout> | undefined
        let attempt = 0
        let stopped = false

        const receive = (message: Notification) => {
          lastId = Math.max(lastId, message.id)
          let isNew = false
          updateCachedData((draft) => {
            isNew = addNotification(draft, message)
          })
          if (!isNew || message.type !== 'transfer_received') return
          dispatch(apiSlice.util.invalidateTags(['User', 'Account', 'Activity', 'Stats']))
          if (!message.read) dispatch(toastShown(describeNotification(message), 'money'))
        }

        const connect = () => {
          const token = (getState() as unknown as { auth: AuthState }).auth.token
          if (stopped || !token) return
          dispatch(socketConnecting())
          const ws = new WebSocket(socketUrl())
          socket = ws
          ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token, lastId }))
          ws.onmessage = (event: MessageEvent) => {
            let message: { type?: string; id?: unknown; instance?: string }
            try {
              message = JSON.parse(String(event.data))
            } catch {
              return
            }
            if (message.type === 'welcome') {
              attempt = 0
              dispatch(socketWelcomed(message.instance ?? 'unknown'))
            } else if (typeof message.id === 'number') {
              receive(message as Notification)
            }
          }
          ws.onclose = (event: CloseEvent) => {
            if (socket !== ws) return
            socket = null
            if (stopped) return
            if (event.code === CLOSE_UNAUTHORIZED) {
              dispatch(endSession('Your session has expired. Please sign in again.'))
              return
            }
            dispatch(socketDropped())
            timer = setTimeout(connect, backoffDelay(attempt++))
          }
        }

        // Back online after a network change: don't wait out the back-off.
        const online = () => {
          if (socket || stopped) return
          clearTimeout(timer)
          connect()
        }
        window.addEventListener('online', online)
        connect()

        await cacheEntryRemoved
        stopped = true
        clearTimeout(timer)
        window.removeEventListener('online', online)
        ;(socket as WebSocket | null)?.close(1000, 'signed out')
        socket = null
        dispatch(socketClosed())
      },
    }),
    markNotificationsRead: build.mutation<{ marked: number; unread: number }, number>({
      query: (upTo) => ({ url: 'api/notifications/read', method: 'POST', body: { upTo } }),
      async onQueryStarted(upTo, { dispatch, queryFulfilled }) {
        const patch = dispatch(
          notificationsApi.util.updateQueryData('getNotifications', undefined, (draft) => {
            for (const n of draft.items) if (n.id <= upTo) n.read = true
            draft.unread = draft.items.filter((n) => !n.read).length
          }),
        )
        try {
          const { data } = await queryFulfilled
          dispatch(notificationsApi.util.updateQueryData('getNotifications', undefined, (draft) => {
            draft.unread = data.unread
          }))
        } catch {
          patch.undo()
        }
      },
    }),
  }),
})

export const { useGetNotificationsQuery, useMarkNotificationsReadMutation } = notificationsApi
