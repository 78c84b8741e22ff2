import { act, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { renderWithProviders } from '../../utils/test-utils'
import { Toaster } from './Toaster'
import { toastShown } from './toastsSlice'

describe('Toaster', () => {
  it('shows a sender-controlled text as text, never as HTML', () => {
    const { store, container } = renderWithProviders(<Toaster />)
    act(() => {
      store.dispatch(toastShown('You received €1.00 from <img src=x onerror=alert(1)>', 'money'))
    })
    expect(screen.getByTestId('toast')).toHaveTextContent('from <img src=x onerror=alert(1)>')
    expect(container.querySelector('img')).toBeNull()
  })

  it('can be dismissed', async () => {
    const { store, user } = renderWithProviders(<Toaster />)
    act(() => {
      store.dispatch(toastShown('Saved', 'success'))
    })
    await user.click(screen.getByRole('button', { name: 'Dismiss' }))
    expect(screen.queryByTestId('toast')).toBeNull()
  })
})
