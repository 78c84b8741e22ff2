import { formatDateTime, formatMoney } from '../../utils/format'
import { ErrorPanel, Spinner } from '../../utils/Feedback'
import { formatIban } from '../../utils/iban'
import { MaterialIcon } from '../../utils/Icon'
import { usePageTitle } from '../../utils/pageHooks'
import type { Notification } from '../api/types'
import { lastIdOf, useGetNotificationsQuery, useMarkNotificationsReadMutation } from './notificationsSlice'

function NotificationRow({ n }: { n: Notification }) {
  const money = n.type === 'transfer_received'
  return (
    <li className={`collection-item notification ${n.read ? 'read' : 'unread'}`} data-testid="notification">
      <span className="activity-avatar in" aria-hidden="true"><MaterialIcon name={money ? 'savings' : 'notifications'} /></span>
      <div className="activity-body">
        <div className="activity-top">
          <span className="activity-name">
            {money ? <>Money received from {n.from}</> : 'Notification'}
            {!n.read && <span className="new-badge">new</span>}
          </span>
          {money && <span className="activity-amount in">+{formatMoney(n.amount ?? '0')}</span>}
        </div>
        <div className="activity-meta">
          <span><i className="fa fa-calendar" aria-hidden="true" /> <time dateTime={n.createdAt}>{formatDateTime(n.createdAt)}</time></span>
          {n.fromIban && <span><i className="fa fa-user" aria-hidden="true" /> <span className="mono">{formatIban(n.fromIban)}</span></span>}
        </div>
        {n.comment && <p className="activity-comment"><i className="fa fa-comment" aria-hidden="true" /> {n.comment}</p>}
      </div>
    </li>
  )
}

export function NotificationsPage() {
  usePageTitle('Notifications')
  const { data, error, isLoading, refetch } = useGetNotificationsQuery()
  const [markRead, { isLoading: marking }] = useMarkNotificationsReadMutation()
  const items = [...(data?.items ?? [])].reverse()
  const unread = data?.unread ?? 0
  return (
    <section className="page">
      <div className="page-head">
        <h1 tabIndex={-1}>Notifications</h1>
        <button type="button" className="btn filled waves-effect" disabled={!unread || marking}
                onClick={() => markRead(lastIdOf(data))} data-testid="mark-read">
          <MaterialIcon name="done_all" className="left" /> Mark all as read
        </button>
      </div>
      <section className="card" aria-label="Your notifications">
        <div className="card-content">
          <p className="muted" role="status">{unread ? `${unread} unread` : 'All caught up.'}</p>
          {isLoading ? <Spinner /> : error ? (
            <ErrorPanel error={error} onRetry={refetch} title="The notifications could not be loaded." />
          ) : items.length === 0 ? (
            <p className="muted empty">No notifications yet. When money arrives, you'll see it here at once.</p>
          ) : (
            <ul className="collection notification-list" data-testid="notification-list">
              {items.map((n) => <NotificationRow key={n.id} n={n} />)}
            </ul>
          )}
        </div>
      </section>
    </section>
  )
}
