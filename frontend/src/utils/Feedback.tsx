// Loading and error states shared by the screens.
import { describeError } from './errors'
import { MaterialIcon } from './Icon'

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <div className="progress"><div className="indeterminate" /></div>
      <span className="visually-hidden">{label}…</span>
    </div>
  )
}

export function ErrorPanel({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <div className="card-panel error-panel" role="alert">
      <MaterialIcon name="error_outline" />
      <div>
        {title && <strong>{title} </strong>}
        <span>{describeError(error)}</span>
      </div>
      {onRetry && (
        <button type="button" className="btn-flat" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}
