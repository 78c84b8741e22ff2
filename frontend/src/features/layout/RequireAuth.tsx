import type { ReactNode } from 'react'
import { Navigate, useLocation } from 'react-router'
import { useAppSelector } from '../../app/hooks'
import { selectIsLoggedIn } from '../auth/authSlice'

/** Screens behind the login: without a session, go to the login page and come back after. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const loggedIn = useAppSelector(selectIsLoggedIn)
  const location = useLocation()
  if (!loggedIn) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />
  return children
}
