import { useState, type FormEvent } from 'react'
import { Navigate, useLocation, useNavigate } from 'react-router'
import { useAppDispatch, useAppSelector } from '../../app/hooks'
import { describeError } from '../../utils/errors'
import { MaterialIcon } from '../../utils/Icon'
import { usePageTitle } from '../../utils/pageHooks'
import { messageDismissed, selectAuthMessage, selectIsLoggedIn } from './authSlice'
import { login } from './authThunks'

export function LoginPage() {
  usePageTitle('Sign in')
  const dispatch = useAppDispatch()
  const navigate = useNavigate()
  const location = useLocation()
  const loggedIn = useAppSelector(selectIsLoggedIn)
  const notice = useAppSelector(selectAuthMessage)
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const from = (location.state as { from?: string } | null)?.from ?? '/overview'

  if (loggedIn && !busy) return <Navigate to={from} replace />

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (busy) return
    if (!email.trim() || !password) {
      setError('Please enter your e-mail address and your password.')
      return
    }
    setBusy(true)
    setError(null)
    const result = await dispatch(login({ email, password }))
    setBusy(false)
    if (login.fulfilled.match(result)) navigate(from, { replace: true })
    else {
      setError(describeError(result.payload ?? result.error, 'Signing in failed. Please try again.'))
      setPassword('')
    }
  }

  return (
    <div className="login-screen">
      <main className="login-card card" aria-labelledby="login-title">
        <div className="card-content">
          <div className="login-logo" aria-hidden="true">
            <MaterialIcon name="savings" />
          </div>
          <h1 id="login-title" className="login-title">Welcome to PiggyBank</h1>
          <p className="login-subtitle">Please sign in to your online banking.</p>
          {notice && (
            <div className="card-panel notice-panel" role="status">
              <MaterialIcon name="info_outline" />
              <span>{notice}</span>
              <button type="button" className="btn-flat" aria-label="Dismiss this message" onClick={() => dispatch(messageDismissed())}>
                <MaterialIcon name="close" />
              </button>
            </div>
          )}
          <form onSubmit={submit} noValidate aria-describedby={error ? 'login-error' : undefined}>
            <div className="input-field outlined">
              <input id="email" name="email" type="email" placeholder=" " autoComplete="username" value={email}
                     onChange={(e) => setEmail(e.target.value)} required autoFocus aria-invalid={Boolean(error) || undefined} />
              <label htmlFor="email">E-mail address</label>
            </div>
            <div className="input-field outlined">
              <input id="password" name="password" type="password" placeholder=" " autoComplete="current-password"
                     value={password} onChange={(e) => setPassword(e.target.value)} required aria-invalid={Boolean(error) || undefined} />
              <label htmlFor="password">Password</label>
            </div>
            {error && (
              <div id="login-error" className="card-panel error-panel" role="alert">
                <MaterialIcon name="error_outline" />
                <span>{error}</span>
              </div>
            )}
            <button type="submit" className="btn filled btn-large waves-effect full-width" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        </div>
      </main>
      <footer className="login-footer">PiggyBank Ltd. · Secure online banking</footer>
    </div>
  )
}
