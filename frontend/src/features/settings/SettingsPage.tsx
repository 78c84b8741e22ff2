import { useState, type FormEvent } from 'react'
import { useAppDispatch } from '../../app/hooks'
import { describeError } from '../../utils/errors'
import { ErrorPanel, Spinner } from '../../utils/Feedback'
import { formatMoney, toMoneyString } from '../../utils/format'
import { formatIban } from '../../utils/iban'
import { MaterialIcon } from '../../utils/Icon'
import { usePageTitle } from '../../utils/pageHooks'
import { useGetUserQuery } from '../api/apiSlice'
import { toastShown } from '../notifications/toastsSlice'
import { useUpdateLimitMutation } from './settingsApi'

export function SettingsPage() {
  usePageTitle('Settings')
  const dispatch = useAppDispatch()
  const { data: user, error, isLoading, refetch } = useGetUserQuery()
  const [updateLimit, { isLoading: saving }] = useUpdateLimitMutation()
  const [value, setValue] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [saved, setSaved] = useState<string | null>(null)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const limit = toMoneyString(value)
    if (!limit) {
      setProblem('Please enter an amount in euros, like 1500 or 1500.00.')
      return
    }
    setProblem(null)
    const result = await updateLimit(limit)
    if ('data' in result && result.data) {
      const text = `Your monthly limit is now ${formatMoney(result.data.limit)}.`
      setSaved(text)
      setValue('')
      dispatch(toastShown(text, 'success'))
    } else setProblem(describeError(result.error))
  }

  return (
    <section className="page">
      <div className="page-head">
        <h1 tabIndex={-1}>Settings</h1>
      </div>
      {isLoading ? <Spinner /> : error || !user ? (
        <ErrorPanel error={error} onRetry={refetch} title="Your settings could not be loaded." />
      ) : (
        <section className="card settings-card" aria-labelledby="limit-title">
          <div className="card-content">
            <h2 id="limit-title" className="card-title">Monthly limit</h2>
            <p className="muted">
              The most you can send in one calendar month. A transfer over the limit is refused when you confirm it.
            </p>
            <dl className="facts">
              <div><dt>Account holder</dt><dd>{user.firstName} {user.lastName}</dd></div>
              <div><dt>IBAN</dt><dd className="mono">{formatIban(user.iban)}</dd></div>
              <div><dt>Current limit</dt><dd data-testid="current-limit">{formatMoney(user.limit)}</dd></div>
              <div><dt>Remaining this month</dt><dd>{formatMoney(user.remaining)}</dd></div>
            </dl>
            <form onSubmit={submit} noValidate className="limit-form">
              <div className={`input-field outlined ${problem ? 'has-error' : ''}`}>
                <input id="limit" type="text" inputMode="decimal" placeholder=" " value={value}
                       onChange={(e) => { setValue(e.target.value); setProblem(null); setSaved(null) }}
                       aria-invalid={Boolean(problem) || undefined} aria-describedby="limit-help" required />
                <label htmlFor="limit">New monthly limit (€)</label>
                <span id="limit-help" className="supporting-text" role={problem ? 'alert' : undefined}>
                  {problem ?? 'For example 1500.00'}
                </span>
              </div>
              <button type="submit" className="btn filled waves-effect" disabled={saving}>
                <MaterialIcon name="save" className="left" /> {saving ? 'Saving…' : 'Save limit'}
              </button>
              {saved && <p className="success-text" role="status"><MaterialIcon name="check_circle" className="tiny" /> {saved}</p>}
            </form>
          </div>
        </section>
      )}
    </section>
  )
}
