import { screen, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { maxUser, mockApi, renderWithProviders, seedTags, signedIn, type Reply } from '../../utils/test-utils'
import { TransferPage } from './TransferPage'

const pending = {
  id: 41, status: 'pending', amount: '10.00', currency: 'EUR', recipientIban: 'AT691000100000000002',
  recipientName: 'Gabi Musterfrau', comment: 'Lunch', tags: [seedTags[0]], createdAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 300_000).toISOString(), bookedAt: null, tanAttemptsLeft: 3, rejectReason: null,
}
const sms = { messages: [{ id: 9, phone: '+43', body: 'PiggyBank mTAN 123456 for your transfer of 10.00 EUR', createdAt: new Date().toISOString() }] }

function api(extra: Record<string, Reply | ((r: Request) => Reply)> = {}) {
  return mockApi({
    'GET /api/user': { body: maxUser },
    'GET /api/tags': { body: { tags: seedTags } },
    'GET /api/demo/sms': { body: sms },
    ...extra,
  })
}

async function fillStep1(user: ReturnType<typeof renderWithProviders>['user']) {
  await user.type(await screen.findByLabelText("Recipient's name"), 'Gabi Musterfrau')
  await user.type(screen.getByLabelText('IBAN'), 'AT69 1000 1000 0000 0002')
  await user.type(screen.getByLabelText('Amount (€)'), '10')
  await user.type(screen.getByLabelText('Payment reference'), 'Lunch')
  await user.click(await screen.findByRole('button', { name: /Leisure/ }))
}

describe('TransferPage', () => {
  it('checks the IBAN as it is typed', async () => {
    api()
    const { user } = renderWithProviders(<TransferPage />, { preloadedState: signedIn, route: '/transfer' })
    const iban = await screen.findByLabelText('IBAN')
    await user.type(iban, 'AT69 1000')
    expect(screen.getByTestId('iban-help')).toHaveTextContent('8 of 20 characters')
    await user.type(iban, ' 1000 0000 0003')
    expect(screen.getByTestId('iban-help')).toHaveTextContent("The check digits don't match")
    expect(iban).toHaveAttribute('aria-invalid', 'true')
    await user.clear(iban)
    await user.type(iban, 'AT961000100000000001')
    expect(screen.getByTestId('iban-help')).toHaveTextContent("That's your own account.")
  })

  it('creates the pending transfer with an Idempotency-Key, reused when the same attempt is retried', async () => {
    let calls = 0
    const { requests } = api({
      'POST /api/transfers': () => (++calls === 1 ? { status: 503, body: { error: { code: 'service_unavailable', message: 'x' } } }
        : { status: 201, body: pending }),
    })
    const { user, store } = renderWithProviders(<TransferPage />, { preloadedState: signedIn, route: '/transfer' })
    await fillStep1(user)
    await user.click(screen.getByTestId('transfer-submit'))
    expect(await screen.findByRole('alert')).toHaveTextContent("can't answer right now")
    await user.click(screen.getByRole('button', { name: 'Try again' }))
    expect(await screen.findByLabelText('mTAN (6 digits)')).toBeInTheDocument()

    const posts = requests.filter((r) => r.method === 'POST')
    expect(posts).toHaveLength(2)
    const keys = posts.map((r) => r.headers.get('Idempotency-Key'))
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/)
    expect(keys[1]).toBe(keys[0])
    expect(posts[0].headers.get('Authorization')).toBe('JWT test-token')
    expect(await posts[1].json()).toEqual({
      recipientIban: 'AT691000100000000002', recipientName: 'Gabi Musterfrau', amount: '10.00', comment: 'Lunch', tags: ['Leisure'],
    })
    expect(store.getState().transfer.step).toBe('tan')
  })

  it('a double click sends one request', async () => {
    const { requests } = api({ 'POST /api/transfers': { status: 201, body: pending } })
    const { user } = renderWithProviders(<TransferPage />, { preloadedState: signedIn, route: '/transfer' })
    await fillStep1(user)
    await user.dblClick(screen.getByTestId('transfer-submit'))
    await screen.findByLabelText('mTAN (6 digits)')
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(1)
  })

  it('step 2: a wrong mTAN shows the error and the attempts left, the right one books', async () => {
    let confirms = 0
    api({
      'POST /api/transfers': { status: 201, body: pending },
      'POST /api/transfers/41/confirm': () => (++confirms === 1
        ? { status: 422, body: { error: { code: 'invalid_tan', message: 'Wrong mTAN. 2 attempts left.', details: { attemptsLeft: 2 } } } }
        : { body: { ...pending, status: 'booked', bookedAt: new Date().toISOString(), expiresAt: null } }),
    })
    const { user } = renderWithProviders(<TransferPage />, { preloadedState: signedIn, route: '/transfer' })
    await fillStep1(user)
    await user.click(screen.getByTestId('transfer-submit'))
    const tan = await screen.findByLabelText('mTAN (6 digits)')
    expect(screen.getByTestId('attempts-left')).toHaveTextContent('3 attempts left')
    expect(screen.getByTestId('countdown')).toHaveTextContent(/valid for [45]:\d\d/)
    expect(await screen.findByTestId('sms-code')).toHaveTextContent('123456')

    await user.type(tan, '654321{Enter}')
    expect(await screen.findByTestId('tan-error')).toHaveTextContent('Wrong mTAN. 2 attempts left.')
    expect(screen.getByTestId('attempts-left')).toHaveTextContent('2 attempts left')
    expect(tan).toHaveValue('')

    await user.type(tan, '123456')
    await user.click(screen.getByTestId('tan-submit'))
    expect(await screen.findByText('Transfer booked')).toBeInTheDocument()
  })

  it('a cancelled transfer can only be started over', async () => {
    api({
      'POST /api/transfers': { status: 201, body: pending },
      'POST /api/transfers/41/confirm': {
        status: 409, body: { error: { code: 'transfer_cancelled', message: 'This transfer was cancelled.' } },
      },
    })
    const { user, store } = renderWithProviders(<TransferPage />, { preloadedState: signedIn, route: '/transfer' })
    await fillStep1(user)
    await user.click(screen.getByTestId('transfer-submit'))
    await user.type(await screen.findByLabelText('mTAN (6 digits)'), '123456{Enter}')
    expect(await screen.findByTestId('tan-error')).toHaveTextContent('cancelled after too many wrong mTANs')
    await user.click(screen.getByRole('button', { name: /Start a new transfer/ }))
    await waitFor(() => expect(store.getState().transfer.step).toBe('form'))
    expect(screen.getByLabelText("Recipient's name")).toHaveValue('Gabi Musterfrau') // the details are kept
  })
})
