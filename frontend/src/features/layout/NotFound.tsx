import { Link } from 'react-router'
import { usePageTitle } from '../../utils/pageHooks'

export function NotFound() {
  usePageTitle('Not found')
  return (
    <section className="page">
      <h1 tabIndex={-1}>Page not found</h1>
      <p>There is no page at this address. <Link to="/overview">Go to the overview</Link>.</p>
    </section>
  )
}
