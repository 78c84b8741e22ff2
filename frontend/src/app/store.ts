// The store, made by a factory (as redux-templates' makeStore) so every test gets a fresh one.
import { combineReducers, configureStore, type Action, type ThunkAction } from '@reduxjs/toolkit'
import { setupListeners } from '@reduxjs/toolkit/query'
import { apiSlice } from '../features/api/apiSlice'
import authSlice, { loggedOut, saveSession } from '../features/auth/authSlice'
import liveSlice from '../features/notifications/notificationsSlice'
import toastsSlice from '../features/notifications/toastsSlice'
import statsSlice from '../features/stats/statsSlice'
import transferSlice from '../features/transfers/transferSlice'

const appReducer = combineReducers({
  [apiSlice.reducerPath]: apiSlice.reducer,
  [authSlice.reducerPath]: authSlice.reducer,
  [transferSlice.reducerPath]: transferSlice.reducer,
  [statsSlice.reducerPath]: statsSlice.reducer,
  [toastsSlice.reducerPath]: toastsSlice.reducer,
  [liveSlice.reducerPath]: liveSlice.reducer,
})

export type RootState = ReturnType<typeof appReducer>

/** Logging out resets every slice; the API cache is reset by resetApiState right after. */
const rootReducer = (state: RootState | undefined, action: Action): RootState => {
  if (loggedOut.match(action) && state) return appReducer({ api: state.api } as RootState, action)
  return appReducer(state, action)
}

export function makeStore(preloadedState?: Partial<RootState>, { persist = true } = {}) {
  const store = configureStore({
    reducer: rootReducer,
    preloadedState: preloadedState as RootState | undefined,
    middleware: (getDefault) => getDefault().concat(apiSlice.middleware),
  })
  setupListeners(store.dispatch)
  if (persist) {
    let saved = store.getState().auth
    store.subscribe(() => {
      const auth = store.getState().auth
      if (auth !== saved) {
        saved = auth
        saveSession(auth)
      }
    })
  }
  return store
}

export type AppStore = ReturnType<typeof makeStore>
export type AppDispatch = AppStore['dispatch']
export type AppThunk<R = void> = ThunkAction<R, RootState, unknown, Action>
