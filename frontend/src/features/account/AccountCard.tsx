import { formatIban } from '../../utils/iban'
import { formatMoney } from '../../utils/format'
import { ErrorPanel, Spinner } from '../../utils/Feedback'
import { MaterialIcon } from '../../utils/Icon'
import { useGetUserQuery } from '../api/apiSlice'

/** The customer's account at a glance: balance (red when ≤ 0), monthly limit, what remains, IBAN, BIC. */
export function AccountCard({ showName = true }: { showName?: boolean }) {
  const { data: user, error, isLoading, refetch } = useGetUserQuery()
  if (isLoading) return <div className="card"><div className="card-content"><Spinner label="Loading your account" /></div></div>
  if (error || !user) return <ErrorPanel error={error} onRetry={refetch} title="Your account could not be loaded." />

  const balance = Number(user.balance)
  const limit = Number(user.limit)
  const remaining = Number(user.remaining)
  const used = limit > 0 ? Math.min(100, Math.max(0, ((limit - remaining) / limit) * 100)) : 100

  return (
    <section className="card account-card" aria-labelledby="account-title" data-testid="account-card">
      <div className="card-content">
        <div className="account-head">
          <div>
            <h2 id="account-title" className="card-title">
              {showName ? `${user.firstName} ${user.lastName}` : 'Your account'}
            </h2>
            {showName && <p className="muted">{user.email}</p>}
          </div>
          <MaterialIcon name="account_balance" className="account-head-icon" />
        </div>
        <div className="balance-block">
          <span className="balance-label">Balance</span>
          <span className={`balance-amount ${balance > 0 ? 'positive' : 'negative'}`} data-testid="balance">
            {formatMoney(user.balance)}
          </span>
        </div>
        <dl className="facts">
          <div>
            <dt>Monthly limit</dt>
            <dd data-testid="limit">{formatMoney(user.limit)}</dd>
          </div>
          <div>
            <dt>Remaining this month</dt>
            <dd data-testid="remaining">{formatMoney(user.remaining)}</dd>
          </div>
          <div className="limit-bar" aria-hidden="true">
            <div className={`limit-bar-fill ${used >= 90 ? 'warn' : ''}`} style={{ width: `${used}%` }} />
          </div>
          <div>
            <dt>IBAN</dt>
            <dd className="mono" data-testid="iban">{formatIban(user.iban)}</dd>
          </div>
          <div>
            <dt>BIC</dt>
            <dd className="mono" data-testid="bic">{user.bic}</dd>
          </div>
        </dl>
      </div>
    </section>
  )
}
