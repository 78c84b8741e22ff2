import { Suspense, useEffect, useRef } from 'react'
import { Outlet, useLocation } from 'react-router'
import { useAppDispatch, useAppSelector } from '../../app/hooks'
import { endSession } from '../api/apiSlice'
import { selectExpiresAt } from '../auth/authSlice'
import { Spinner } from '../../utils/Feedback'
import { NavBar } from './NavBar'

/** Ends the session when the token expires, before a request has to find out. */
function useSessionTimer() {
  const dispatch = useAppDispatch()
  const expiresAt = useAppSelector(selectExpiresAt)
  useEffect(() => {
    if (!expiresAt) return
    const id = setTimeout(() => dispatch(endSession('Your session has expired. Please sign in again.')),
      Math.max(0, Math.min(expiresAt - Date.now(), 2 ** 31 - 1)))
    return () => clearTimeout(id)
  }, [dispatch, expiresAt])
}

export function Layout() {
  useSessionTimer()
  const location = useLocation()
  const main = useRef<HTMLElement>(null)
  const first = useRef(true)

  // After navigating, move the focus to the new screen's heading (for keyboard and screen readers).
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    const root = main.current
    if (!root) return
    const focusHeading = () => {
      const heading = root.querySelector<HTMLElement>('h1')
      heading?.focus()
      return Boolean(heading)
    }
    if (focusHeading()) return
    // A screen that is still loading: focus its heading once it appears.
    const observer = new MutationObserver(() => focusHeading() && observer.disconnect())
    observer.observe(root, { childList: true, subtree: true })
    const stop = setTimeout(() => observer.disconnect(), 5000)
    return () => {
      observer.disconnect()
      clearTimeout(stop)
    }
  }, [location.pathname])

  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <NavBar />
      <main id="main" ref={main} className="container piggy-main" tabIndex={-1}>
        <Suspense fallback={<Spinner />}>
          <Outlet />
        </Suspense>
      </main>
    </>
  )
}
