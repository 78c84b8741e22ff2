import { screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { maxUser, mockApi, renderWithProviders, signedIn } from '../../utils/test-utils'
import { AccountCard } from './AccountCard'

describe('AccountCard', () => {
  it('shows name, IBAN in groups, BIC, limit and what remains; a positive balance in green', async () => {
    mockApi({ 'GET /api/user': { body: { ...maxUser, remaining: '990.00' } } })
    renderWithProviders(<AccountCard />, { preloadedState: signedIn })
    expect(await screen.findByRole('heading', { name: 'Max Mustermann' })).toBeInTheDocument()
    expect(screen.getByTestId('balance')).toHaveTextContent('€2,437.23')
    expect(screen.getByTestId('balance')).toHaveClass('positive')
    expect(screen.getByTestId('iban')).toHaveTextContent('AT96 1000 1000 0000 0001')
    expect(screen.getByTestId('bic')).toHaveTextContent('BANKATW1')
    expect(screen.getByTestId('limit')).toHaveTextContent('€1,000.00')
    expect(screen.getByTestId('remaining')).toHaveTextContent('€990.00')
  })

  it.each(['0.00', '-12.50'])('shows a balance of %s in red', async (balance) => {
    mockApi({ 'GET /api/user': { body: { ...maxUser, balance } } })
    renderWithProviders(<AccountCard />, { preloadedState: signedIn })
    expect(await screen.findByTestId('balance')).toHaveClass('negative')
  })

  it('a 401 ends the session with a message for the login page', async () => {
    mockApi({ 'GET /api/user': { status: 401, body: { error: { code: 'unauthorized', message: 'The session has expired. Please sign in again.' } } } })
    const { store } = renderWithProviders(<AccountCard />, { preloadedState: signedIn })
    await screen.findByRole('alert')
    expect(store.getState().auth).toMatchObject({ token: null, message: 'Your session has expired. Please sign in again.' })
  })
})
