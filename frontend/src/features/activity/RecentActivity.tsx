import { Link } from 'react-router'
import { ErrorPanel, Spinner } from '../../utils/Feedback'
import { useGetActivityInfiniteQuery } from './activityApi'
import { ActivityRow } from './ActivityPage'

/** The newest few transactions for the overview (the same cache as the unfiltered activity list). */
export function RecentActivity({ count = 5 }: { count?: number }) {
  const { data, error, isLoading, refetch } = useGetActivityInfiniteQuery({ direction: '', tag: '' })
  const items = data?.pages[0]?.items.slice(0, count) ?? []
  return (
    <section className="card" aria-labelledby="recent-title">
      <div className="card-content">
        <div className="card-head">
          <h2 id="recent-title" className="card-title">Recent activity</h2>
          <Link to="/activity">See all</Link>
        </div>
        {isLoading ? <Spinner label="Loading your transactions" /> : error ? (
          <ErrorPanel error={error} onRetry={refetch} title="The transactions could not be loaded." />
        ) : items.length === 0 ? (
          <p className="muted empty">No transactions yet.</p>
        ) : (
          <ul className="collection activity-list" data-testid="recent-activity">
            {items.map((item) => <ActivityRow key={item.id} item={item} />)}
          </ul>
        )}
      </div>
    </section>
  )
}
