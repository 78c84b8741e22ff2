// Renders a component the way the app does: a fresh store per test and a router at a chosen URL.
import type { ReactElement, ReactNode } from 'react'
import { render, type RenderOptions } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { Provider } from 'react-redux'
import { MemoryRouter, Route, Routes } from 'react-router'
import { vi } from 'vitest'
import { makeStore, type AppStore, type RootState } from '../app/store'

type Options = Omit<RenderOptions, 'queries'> & {
  preloadedState?: Partial<RootState>
  store?: AppStore
  route?: string
  /** Other routes to mount beside the component (e.g. a stand-in login page). */
  routes?: Record<string, ReactNode>
}

export function renderWithProviders(ui: ReactElement, { preloadedState, store, route = '/', routes = {}, ...options }: Options = {}) {
  const theStore = store ?? makeStore(preloadedState, { persist: false })
  const path = route.split('?')[0]
  const Wrapper = ({ children }: { children: ReactNode }) => (
    <Provider store={theStore}>
      <MemoryRouter initialEntries={[route]}>
        <Routes>
          <Route path={path} element={children} />
          {Object.entries(routes).map(([at, element]) => <Route key={at} path={at} element={element} />)}
        </Routes>
      </MemoryRouter>
    </Provider>
  )
  return { store: theStore, user: userEvent.setup(), ...render(ui, { wrapper: Wrapper, ...options }) }
}

export const signedIn = { auth: { token: 'test-token', expiresAt: Date.now() + 600_000, email: 'max@example.com', message: null } }

export type Reply = { status?: number; body?: unknown }
type Handler = (request: Request) => Reply | Promise<Reply>

/** Replaces fetch: `routes` maps "METHOD /path" to an answer; every request is recorded. */
export function mockApi(routes: Record<string, Reply | Handler>) {
  const requests: Request[] = []
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init)
    requests.push(request.clone())
    const key = `${request.method} ${new URL(request.url).pathname}`
    const route = routes[key]
    if (!route) return new Response(JSON.stringify({ error: { code: 'not_found', message: `no mock for ${key}` } }), { status: 404 })
    const reply = typeof route === 'function' ? await route(request) : route
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status ?? 200,
      headers: { 'Content-Type': 'application/json' },
    })
  })
  vi.stubGlobal('fetch', fetchMock)
  return { fetchMock, requests }
}

export const maxUser = {
  firstName: 'Max', lastName: 'Mustermann', email: 'maxmustermann@gmail.com', iban: 'AT961000100000000001',
  bic: 'BANKATW1', balance: '2437.23', limit: '1000.00', remaining: '1000.00',
}

export const seedTags = [
  { title: 'Leisure', color: 'cyan lighten-3', icon: 'fa fa-coffee' },
  { title: 'Subscriptions', color: 'gray', icon: 'fa fa-pencil' },
]
