import { useEffect } from 'react'
import { useAppDispatch, useAppSelector } from '../../app/hooks'
import { MaterialIcon } from '../../utils/Icon'
import { selectToasts, toastDismissed, type Toast } from './toastsSlice'

const ICONS: Record<Toast['kind'], string> = { money: 'savings', success: 'check_circle', info: 'info', error: 'error' }

function ToastItem({ toast }: { toast: Toast }) {
  const dispatch = useAppDispatch()
  useEffect(() => {
    const id = setTimeout(() => dispatch(toastDismissed(toast.id)), toast.kind === 'money' ? 10000 : 6000)
    return () => clearTimeout(id)
  }, [dispatch, toast])
  return (
    <div className={`piggy-toast piggy-toast-${toast.kind}`} data-testid="toast">
      <MaterialIcon name={ICONS[toast.kind]} />
      {/* text, never HTML: a sender's name or reference can't inject markup */}
      <span className="piggy-toast-text">{toast.text}</span>
      <button type="button" className="piggy-toast-close" aria-label="Dismiss" onClick={() => dispatch(toastDismissed(toast.id))}>
        <MaterialIcon name="close" />
      </button>
    </div>
  )
}

export function Toaster() {
  const toasts = useAppSelector(selectToasts)
  return (
    <div className="piggy-toasts" role="status" aria-live="polite">
      {toasts.map((toast) => <ToastItem key={toast.id} toast={toast} />)}
    </div>
  )
}
