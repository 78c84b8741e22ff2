import { Link } from 'react-router'
import { usePageTitle } from '../../utils/pageHooks'
import { MaterialIcon } from '../../utils/Icon'
import { RecentActivity } from '../activity/RecentActivity'
import { StatsCard } from '../stats/StatsCard'
import { AccountCard } from './AccountCard'

export function OverviewPage() {
  usePageTitle('Overview')
  return (
    <section className="page">
      <div className="page-head">
        <h1 tabIndex={-1}>Overview</h1>
        <Link to="/transfer" className="btn filled waves-effect">
          <MaterialIcon name="send" className="left" />
          New transfer
        </Link>
      </div>
      <div className="overview-grid">
        <AccountCard />
        <div className="overview-main">
          <StatsCard />
          <RecentActivity />
        </div>
      </div>
    </section>
  )
}
