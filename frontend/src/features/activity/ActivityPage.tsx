import { useEffect, useRef } from 'react'
import { useSearchParams } from 'react-router'
import { formatDate, formatSigned, formatTime } from '../../utils/format'
import { formatIban } from '../../utils/iban'
import { ErrorPanel, Spinner } from '../../utils/Feedback'
import { MaterialIcon } from '../../utils/Icon'
import { usePageTitle } from '../../utils/pageHooks'
import { useGetTagsQuery } from '../api/apiSlice'
import type { ActivityFilter, ActivityItem } from '../api/types'
import { AccountCard } from '../account/AccountCard'
import { useGetActivityInfiniteQuery } from './activityApi'
import { TagChip } from './TagChip'

export function ActivityRow({ item }: { item: ActivityItem }) {
  const incoming = item.direction === 'in'
  return (
    <li className="collection-item activity-item" data-testid="activity-item" data-direction={item.direction}>
      <span className={`activity-avatar ${incoming ? 'in' : 'out'}`} aria-hidden="true">
        <MaterialIcon name={incoming ? 'south_west' : 'north_east'} />
      </span>
      <div className="activity-body">
        <div className="activity-top">
          <span className="activity-name">{item.counterpartyName}</span>
          <span className={`activity-amount ${incoming ? 'in' : 'out'}`}>
            <span className="visually-hidden">{incoming ? 'received' : 'sent'} </span>
            {formatSigned(item.amount, item.direction)}
          </span>
        </div>
        <div className="activity-meta">
          <span><i className="fa fa-user" aria-hidden="true" /> <span className="mono">{formatIban(item.counterpartyIban)}</span></span>
          <span><i className="fa fa-calendar" aria-hidden="true" /> <time dateTime={item.createdAt}>{formatDate(item.createdAt)}</time></span>
          <span><i className="fa fa-clock" aria-hidden="true" /> {formatTime(item.createdAt)}</span>
        </div>
        {item.comment && (
          <p className="activity-comment"><i className="fa fa-comment" aria-hidden="true" /> {item.comment}</p>
        )}
        {item.tags.length > 0 && (
          <div className="activity-tags" aria-label="Tags">
            {item.tags.map((tag) => <TagChip key={tag.title} tag={tag} />)}
          </div>
        )}
      </div>
    </li>
  )
}

export function ActivityPage() {
  usePageTitle('Activity')
  const [params, setParams] = useSearchParams()
  const direction = params.get('direction') === 'in' || params.get('direction') === 'out' ? params.get('direction') as 'in' | 'out' : ''
  const tag = params.get('tag') ?? ''
  const filter: ActivityFilter = { direction, tag }
  const { data: tags } = useGetTagsQuery()
  const { data, error, isLoading, isFetching, isFetchingNextPage, hasNextPage, fetchNextPage, refetch } =
    useGetActivityInfiniteQuery(filter)
  const items = data?.pages.flatMap((page) => page.items) ?? []

  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(params)
    if (value) next.set(key, value)
    else next.delete(key)
    setParams(next, { replace: true })
  }

  // Infinite scroll: load the next page when the end of the list comes into view.
  const sentinel = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const node = sentinel.current
    if (!node || !hasNextPage || typeof IntersectionObserver === 'undefined') return
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !isFetching) fetchNextPage()
    }, { rootMargin: '200px' })
    observer.observe(node)
    return () => observer.disconnect()
  }, [hasNextPage, isFetching, fetchNextPage])

  return (
    <section className="page">
      <div className="page-head">
        <h1 tabIndex={-1}>Activity</h1>
      </div>
      <div className="activity-grid">
        <div className="activity-side">
          <AccountCard showName={false} />
        </div>
        <section className="card activity-card" aria-labelledby="activity-title">
          <div className="card-content">
            <h2 id="activity-title" className="card-title">Past transactions</h2>
            <div className="filters" role="group" aria-label="Filter the transactions">
              <div className="filter">
                <label htmlFor="filter-direction">Direction</label>
                <select id="filter-direction" className="browser-default" value={direction}
                        onChange={(e) => setFilter('direction', e.target.value)}>
                  <option value="">Money in and out</option>
                  <option value="in">Money in</option>
                  <option value="out">Money out</option>
                </select>
              </div>
              <div className="filter">
                <label htmlFor="filter-tag">Tag</label>
                <select id="filter-tag" className="browser-default" value={tag} onChange={(e) => setFilter('tag', e.target.value)}>
                  <option value="">All tags</option>
                  {tags?.map((t) => <option key={t.title} value={t.title}>{t.title}</option>)}
                </select>
              </div>
            </div>
            {isLoading ? (
              <Spinner label="Loading your transactions" />
            ) : error && items.length === 0 ? (
              <ErrorPanel error={error} onRetry={refetch} title="The transactions could not be loaded." />
            ) : items.length === 0 ? (
              <p className="muted empty">No transactions {direction || tag ? 'match this filter' : 'yet'}.</p>
            ) : (
              <ul className="collection activity-list" aria-busy={isFetching} data-testid="activity-list">
                {items.map((item) => <ActivityRow key={item.id} item={item} />)}
              </ul>
            )}
            <div ref={sentinel} className="activity-more">
              {hasNextPage && (
                <button type="button" className="btn-flat waves-effect" onClick={() => fetchNextPage()} disabled={isFetchingNextPage}>
                  {isFetchingNextPage ? 'Loading…' : 'Load older transactions'}
                </button>
              )}
              {!hasNextPage && items.length > 0 && <p className="muted">That's all.</p>}
            </div>
          </div>
        </section>
      </div>
    </section>
  )
}
