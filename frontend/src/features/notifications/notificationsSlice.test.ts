import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { makeStore } from '../../app/store'
import { mockApi, signedIn } from '../../utils/test-utils'
import { endSession } from '../api/apiSlice'
import type { Notification, Notifications } from '../api/types'
import liveSlice, {
  addNotification, backoffDelay, describeNotification, notificationsApi, socketDropped, socketUrl, socketWelcomed,
} from './notificationsSlice'

const money = (id: number, extra: Partial<Notification> = {}): Notification => ({
  id, type: 'transfer_received', amount: '10.00', from: 'Max Mustermann', fromIban: 'AT961000100000000001',
  transferId: 100 + id, comment: 'Lunch', createdAt: '2026-11-28T10:00:00Z', read: false, ...extra,
})

describe('notifications reducer helpers', () => {
  it('adds a notification once, in id order, and counts it as unread', () => {
    const list: Notifications = { items: [money(1, { read: true }), money(3)], unread: 1 }
    expect(addNotification(list, money(2))).toBe(true)
    expect(addNotification(list, money(2))).toBe(false) // a replay after reconnecting
    expect(list.items.map((n) => n.id)).toEqual([1, 2, 3])
    expect(list.unread).toBe(2)
  })

  it('describes money in words, as text', () => {
    expect(describeNotification(money(1, { comment: '<b>hi</b>' }))).toBe('You received €10.00 from Max Mustermann “<b>hi</b>”')
  })

  it('backs off exponentially, with jitter, up to a cap', () => {
    const mid = () => 0.5
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, mid))).toEqual([500, 1000, 2000, 4000, 15000])
    expect(backoffDelay(0, () => 0)).toBe(400)
    expect(backoffDelay(0, () => 1)).toBe(600)
  })

  it('builds the socket URL from the page location, wss under https', () => {
    expect(socketUrl({ protocol: 'https:', host: 'bank.example:8080' })).toBe('wss://bank.example:8080/api/ws')
    expect(socketUrl({ protocol: 'http:', host: 'localhost:5173' })).toBe('ws://localhost:5173/api/ws')
  })

  it('tracks the connection', () => {
    let state = liveSlice.reducer(undefined, socketWelcomed('appserver2'))
    expect(state).toEqual({ status: 'online', instance: 'appserver2', retries: 0 })
    state = liveSlice.reducer(state, socketDropped())
    expect(state).toEqual({ status: 'reconnecting', instance: null, retries: 1 })
  })
})

// --- the WebSocket in onCacheEntryAdded, with a fake socket ---------------------------------------

class FakeSocket {
  static all: FakeSocket[] = []
  sent: unknown[] = []
  closed: { code?: number } | null = null
  onopen: (() => void) | null = null
  onmessage: ((e: { data: string }) => void) | null = null
  onclose: ((e: { code: number }) => void) | null = null
  constructor(public url: string) {
    FakeSocket.all.push(this)
  }
  send(data: string) {
    this.sent.push(JSON.parse(data))
  }
  close(code?: number) {
    this.closed = { code }
  }
  // what the server does
  open() {
    this.onopen?.()
  }
  receive(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) })
  }
  drop(code = 1006) {
    this.onclose?.({ code })
  }
}

describe('the live notifications socket', () => {
  beforeEach(() => {
    FakeSocket.all = []
    vi.stubGlobal('WebSocket', FakeSocket)
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    mockApi({ 'GET /api/notifications': { body: { items: [money(1, { read: true }), money(2)], unread: 1 } } })
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  async function subscribed() {
    const store = makeStore(signedIn, { persist: false })
    const subscription = store.dispatch(notificationsApi.endpoints.getNotifications.initiate())
    await subscription
    await vi.waitFor(() => expect(FakeSocket.all).toHaveLength(1))
    return { store, subscription, data: () => notificationsApi.endpoints.getNotifications.select()(store.getState()).data! }
  }

  it('authenticates with the token and the last id it has, then adds what arrives', async () => {
    const { store, data } = await subscribed()
    const ws = FakeSocket.all[0]
    expect(ws.url).toBe('ws://localhost:3000/api/ws')
    ws.open()
    expect(ws.sent).toEqual([{ type: 'auth', token: 'test-token', lastId: 2 }])
    ws.receive({ type: 'welcome', instance: 'appserver1' })
    expect(store.getState().live).toMatchObject({ status: 'online', instance: 'appserver1' })

    ws.receive(money(3, { amount: '7.50' }))
    expect(data().items.map((n) => n.id)).toEqual([1, 2, 3])
    expect(data().unread).toBe(2)
    expect(store.getState().toasts.map((t) => t.text)).toEqual(['You received €7.50 from Max Mustermann “Lunch”'])

    ws.receive(money(3, { amount: '7.50' })) // the same one again: no second toast
    expect(store.getState().toasts).toHaveLength(1)
  })

  it('reconnects with back-off after a drop and asks for what it missed', async () => {
    const { store } = await subscribed()
    const first = FakeSocket.all[0]
    first.open()
    first.receive({ type: 'welcome', instance: 'appserver1' })
    first.receive(money(5))
    first.drop(1006) // the app server was killed
    expect(store.getState().live.status).toBe('reconnecting')
    expect(FakeSocket.all).toHaveLength(1)

    vi.advanceTimersByTime(700)
    expect(FakeSocket.all).toHaveLength(2)
    const second = FakeSocket.all[1]
    second.open()
    expect(second.sent).toEqual([{ type: 'auth', token: 'test-token', lastId: 5 }])
    second.drop(1012) // restarting as well: wait longer this time
    vi.advanceTimersByTime(700)
    expect(FakeSocket.all).toHaveLength(2)
    vi.advanceTimersByTime(700)
    expect(FakeSocket.all).toHaveLength(3)
  })

  it('ends the session when the server refuses the token (4401)', async () => {
    const { store } = await subscribed()
    FakeSocket.all[0].open()
    FakeSocket.all[0].drop(4401)
    await vi.waitFor(() => expect(store.getState().auth.token).toBeNull())
    expect(store.getState().auth.message).toMatch(/expired/)
    vi.advanceTimersByTime(20_000)
    expect(FakeSocket.all).toHaveLength(1) // no reconnecting without a session
  })

  it('closes the socket on logout and does not come back', async () => {
    const { store } = await subscribed()
    const ws = FakeSocket.all[0]
    ws.open()
    store.dispatch(endSession('You have signed out.'))
    await vi.waitFor(() => expect(ws.closed).toEqual({ code: 1000 }))
    ws.drop(1000)
    vi.advanceTimersByTime(20_000)
    expect(FakeSocket.all).toHaveLength(1)
    expect(store.getState().live.status).toBe('offline')
  })
})
