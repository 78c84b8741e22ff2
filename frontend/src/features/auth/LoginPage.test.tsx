import { screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { mockApi, renderWithProviders } from '../../utils/test-utils'
import { LoginPage } from './LoginPage'

const overview = <h1>Overview page</h1>

describe('LoginPage', () => {
  it('says in words that the e-mail address or the password is wrong', async () => {
    mockApi({ 'POST /auth': { status: 401, body: { error: { code: 'invalid_credentials', message: 'Invalid credentials.' } } } })
    const { user, store } = renderWithProviders(<LoginPage />, { route: '/login', routes: { '/overview': overview } })
    await user.type(screen.getByLabelText('E-mail address'), 'max@example.com')
    await user.type(screen.getByLabelText('Password'), 'nope')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('The e-mail address or the password is wrong.')
    expect(screen.getByLabelText('Password')).toHaveValue('')
    expect(store.getState().auth.token).toBeNull()
  })

  it('explains a locked account and an unreachable bank', async () => {
    mockApi({ 'POST /auth': { status: 429, body: { error: { code: 'account_locked', message: 'x', details: { retryAfter: 60 } } } } })
    const { user } = renderWithProviders(<LoginPage />, { route: '/login' })
    await user.type(screen.getByLabelText('E-mail address'), 'max@example.com')
    await user.type(screen.getByLabelText('Password'), 'nope')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('locked for 60 seconds')
  })

  it('asks for both fields before sending anything', async () => {
    const { fetchMock } = mockApi({})
    const { user } = renderWithProviders(<LoginPage />, { route: '/login' })
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(screen.getByRole('alert')).toHaveTextContent('Please enter your e-mail address and your password.')
    expect(fetchMock).not.toHaveBeenCalled()
  })

  it('signs in with the username field the API expects and goes to the overview', async () => {
    const { requests } = mockApi({ 'POST /auth': { body: { access_token: 'jwt', token_type: 'JWT', expires_in: 900 } } })
    const { user, store } = renderWithProviders(<LoginPage />, { route: '/login', routes: { '/overview': overview } })
    await user.type(screen.getByLabelText('E-mail address'), ' maxmustermann@gmail.com ')
    await user.type(screen.getByLabelText('Password'), 'maxmustermann{Enter}')
    expect(await screen.findByText('Overview page')).toBeInTheDocument()
    expect(await requests[0].json()).toEqual({ username: 'maxmustermann@gmail.com', password: 'maxmustermann' })
    expect(store.getState().auth.token).toBe('jwt')
  })

  it('shows why the user was signed out', () => {
    renderWithProviders(<LoginPage />, {
      route: '/login',
      preloadedState: { auth: { token: null, expiresAt: null, email: null, message: 'Your session has expired.' } },
    })
    expect(screen.getByRole('status')).toHaveTextContent('Your session has expired.')
  })
})
