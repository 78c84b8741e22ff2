import { describe, expect, it } from 'vitest'
import { makeStore } from '../../app/store'
import { apiSlice, endSession } from '../api/apiSlice'
import { draftChanged } from '../transfers/transferSlice'
import authSlice, { loadSession, loggedIn, loggedOut, saveSession } from './authSlice'

describe('auth slice', () => {
  it('keeps the token and when it expires', () => {
    const state = authSlice.reducer(undefined, loggedIn({ token: 't', expiresIn: 900, email: 'a@b.c' }))
    expect(state.token).toBe('t')
    expect(state.expiresAt! - Date.now()).toBeGreaterThan(890_000)
  })

  it('forgets the token on logout and keeps the message for the login page', () => {
    const inState = authSlice.reducer(undefined, loggedIn({ token: 't', expiresIn: 900, email: 'a@b.c' }))
    const out = authSlice.reducer(inState, loggedOut({ message: 'Your session has expired.' }))
    expect(out).toEqual({ token: null, expiresAt: null, email: null, message: 'Your session has expired.' })
  })
})

describe('the session in sessionStorage', () => {
  it('survives a reload but not its expiry', () => {
    saveSession({ token: 't', expiresAt: Date.now() + 60_000, email: 'a@b.c', message: null })
    expect(loadSession()?.token).toBe('t')
    saveSession({ token: 't', expiresAt: Date.now() - 1, email: 'a@b.c', message: null })
    expect(loadSession()).toBeUndefined()
    expect(sessionStorage.getItem('piggybank.session')).toBeNull()
  })

  it('ignores a damaged entry', () => {
    sessionStorage.setItem('piggybank.session', '{not json')
    expect(loadSession()).toBeUndefined()
  })

  it('is written and removed by the store as the user signs in and out', () => {
    const store = makeStore()
    store.dispatch(loggedIn({ token: 'abc', expiresIn: 900, email: 'a@b.c' }))
    expect(JSON.parse(sessionStorage.getItem('piggybank.session')!).token).toBe('abc')
    store.dispatch(endSession('bye'))
    expect(sessionStorage.getItem('piggybank.session')).toBeNull()
  })
})

describe('logging out resets the whole state', () => {
  it('clears every slice and the API cache', () => {
    const store = makeStore(undefined, { persist: false })
    store.dispatch(loggedIn({ token: 'abc', expiresIn: 900, email: 'a@b.c' }))
    store.dispatch(draftChanged({ recipientName: 'Gabi' }))
    store.dispatch(apiSlice.util.upsertQueryData('getUser', undefined, {
      firstName: 'Max', lastName: 'M', email: 'm', iban: 'AT', bic: 'B', balance: '1.00', limit: '1.00', remaining: '1.00',
    }))
    expect(Object.keys(store.getState().api.queries)).toHaveLength(1)

    store.dispatch(endSession('You have signed out.'))

    const state = store.getState()
    expect(state.auth).toEqual({ token: null, expiresAt: null, email: null, message: 'You have signed out.' })
    expect(state.transfer.draft.recipientName).toBe('')
    expect(state.api.queries).toEqual({})
  })
})
