import { useEffect, useRef, useState, type FormEvent } from 'react'
import { useAppDispatch, useAppSelector } from '../../app/hooks'
import { apiErrorOf, describeError, isRetryable } from '../../utils/errors'
import { formatMoney } from '../../utils/format'
import { formatIban } from '../../utils/iban'
import { MaterialIcon } from '../../utils/Icon'
import { useNow } from '../../utils/pageHooks'
import { TagChip } from '../activity/TagChip'
import { selectTransfer, startedOver, tanRejected, transferBooked } from './transferSlice'
import { useConfirmTransferMutation } from './transfersApi'

export function secondsLeft(expiresAt: string | null, now: number): number | null {
  if (!expiresAt) return null
  return Math.max(0, Math.floor((Date.parse(expiresAt) - now) / 1000))
}

export function formatCountdown(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
}

/** Step 2: the mTAN from the SMS books the pending transfer. */
export function TanStep() {
  const dispatch = useAppDispatch()
  const { pending } = useAppSelector(selectTransfer)
  const [confirm, { isLoading }] = useConfirmTransferMutation()
  const [tan, setTan] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [closed, setClosed] = useState(false) // cancelled, expired or rejected: only starting over helps
  const input = useRef<HTMLInputElement>(null)
  const inFlight = useRef(false)
  const now = useNow(1000)

  useEffect(() => input.current?.focus(), [])
  if (!pending) return null

  const left = secondsLeft(pending.expiresAt, now)
  const expired = left === 0
  const attempts = pending.tanAttemptsLeft

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (inFlight.current || closed || expired) return
    if (!/^\d{6}$/.test(tan)) {
      setError('The mTAN has six digits.')
      input.current?.focus()
      return
    }
    inFlight.current = true
    setError(null)
    const result = await confirm({ id: pending.id, tan })
    inFlight.current = false
    if ('data' in result && result.data) {
      dispatch(transferBooked(result.data))
      return
    }
    const api = apiErrorOf(result.error)
    if (api?.code === 'invalid_tan') {
      const attemptsLeft = Number(api.details?.attemptsLeft ?? 0)
      dispatch(tanRejected(attemptsLeft))
      setError(attemptsLeft > 0
        ? `Wrong mTAN. ${attemptsLeft} attempt${attemptsLeft === 1 ? '' : 's'} left.`
        : 'Wrong mTAN, and no attempts are left: the transfer is cancelled. Please start a new transfer.')
      if (attemptsLeft === 0) setClosed(true)
      setTan('')
      input.current?.focus()
    } else {
      setError(describeError(result.error))
      if (!isRetryable(result.error) && api?.code !== 'invalid_request') setClosed(true)
    }
  }

  const closedNow = closed || expired
  return (
    <div className="tan-step">
      <h2 className="card-title">2. Confirm with your mTAN</h2>
      <dl className="summary" data-testid="transfer-summary">
        <div><dt>To</dt><dd>{pending.recipientName}</dd></div>
        <div><dt>IBAN</dt><dd className="mono">{formatIban(pending.recipientIban)}</dd></div>
        <div><dt>Amount</dt><dd className="summary-amount">{formatMoney(pending.amount)}</dd></div>
        {pending.comment && <div><dt>Reference</dt><dd>{pending.comment}</dd></div>}
        {pending.tags.length > 0 && <div><dt>Tags</dt><dd>{pending.tags.map((t) => <TagChip key={t.title} tag={t} />)}</dd></div>}
      </dl>
      <p className="tan-status">
        <span data-testid="attempts-left"><MaterialIcon name="password" className="tiny" /> {attempts} attempt{attempts === 1 ? '' : 's'} left</span>
        {left !== null && (
          <span data-testid="countdown" className={left < 60 ? 'urgent' : ''}>
            <MaterialIcon name="timer" className="tiny" /> {expired ? 'The mTAN has expired' : `valid for ${formatCountdown(left)}`}
          </span>
        )}
      </p>
      <form onSubmit={submit} noValidate>
        <div className={`input-field outlined tan-field ${error ? 'has-error' : ''}`}>
          <input ref={input} id="tan" type="text" inputMode="numeric" autoComplete="one-time-code" placeholder=" "
                 maxLength={6} pattern="\d{6}" value={tan} disabled={closedNow}
                 onChange={(e) => { setTan(e.target.value.replace(/\D/g, '').slice(0, 6)); setError(null) }}
                 aria-invalid={Boolean(error) || undefined} aria-describedby="tan-help" />
          <label htmlFor="tan">mTAN (6 digits)</label>
          <span id="tan-help" className="supporting-text">We sent it by SMS to your phone.</span>
        </div>
        {(error || expired) && (
          <div className="card-panel error-panel" role="alert" data-testid="tan-error">
            <MaterialIcon name="error_outline" />
            <span>{error ?? 'The mTAN has expired. Please start a new transfer.'}</span>
          </div>
        )}
        <div className="button-row">
          {closedNow ? (
            <button type="button" className="btn filled waves-effect" onClick={() => dispatch(startedOver({ keepDraft: true }))}>
              <MaterialIcon name="replay" className="left" /> Start a new transfer
            </button>
          ) : (
            <>
              <button type="submit" className="btn filled btn-large waves-effect" disabled={isLoading} data-testid="tan-submit">
                <MaterialIcon name="lock" className="left" />
                {isLoading ? 'Confirming…' : `Confirm transfer of ${formatMoney(pending.amount)}`}
              </button>
              <button type="button" className="btn-flat waves-effect" onClick={() => dispatch(startedOver({ keepDraft: true }))}>
                Change details
              </button>
            </>
          )}
        </div>
      </form>
    </div>
  )
}
