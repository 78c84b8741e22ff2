import { useRef, useState, type FormEvent } from 'react'
import { useAppDispatch, useAppSelector } from '../../app/hooks'
import { describeError, isRetryable } from '../../utils/errors'
import { formatMoney, toMoneyString } from '../../utils/format'
import { checkIban, formatIban, normalizeIban } from '../../utils/iban'
import { MaterialIcon, TagIcon } from '../../utils/Icon'
import { useGetTagsQuery, useGetUserQuery } from '../api/apiSlice'
import { tagColorClass } from '../../utils/format'
import { attemptStarted, draftChanged, selectTransfer, toRequest, transferCreated } from './transferSlice'
import { useCreateTransferMutation } from './transfersApi'

type Problems = Partial<Record<'recipientName' | 'recipientIban' | 'amount', string>>

/** Step 1: who gets how much. Submitting creates the pending transfer and sends the mTAN. */
export function TransferForm() {
  const dispatch = useAppDispatch()
  const { draft, attemptKey } = useAppSelector(selectTransfer)
  const { data: user } = useGetUserQuery()
  const { data: tags } = useGetTagsQuery()
  const [createTransfer, { isLoading }] = useCreateTransferMutation()
  const [problems, setProblems] = useState<Problems>({})
  const [serverError, setServerError] = useState<{ text: string; retry: boolean } | null>(null)
  const [touchedIban, setTouchedIban] = useState(false)
  const inFlight = useRef(false)

  const iban = checkIban(draft.recipientIban)
  const ownIban = user && normalizeIban(draft.recipientIban) === user.iban
  const ibanProblem = problems.recipientIban ?? (ownIban ? "That's your own account." : null) ??
    (iban.state === 'invalid' || (touchedIban && iban.state === 'incomplete') ? iban.message : null)
  const amount = toMoneyString(draft.amount)
  const amountHint = amount && user && Number(amount) > Number(user.balance) ? 'More than your balance.'
    : amount && user && Number(amount) > Number(user.remaining) ? "More than what remains of this month's limit." : null

  const change = (field: keyof typeof draft) => (e: { target: { value: string } }) => {
    dispatch(draftChanged({ [field]: e.target.value }))
    setProblems((p) => ({ ...p, [field]: undefined }))
    setServerError(null)
  }
  const toggleTag = (title: string) => {
    const tagsNow = draft.tags.includes(title) ? draft.tags.filter((t) => t !== title) : [...draft.tags, title]
    dispatch(draftChanged({ tags: tagsNow }))
  }

  const validate = (): Problems => {
    const found: Problems = {}
    if (!draft.recipientName.trim()) found.recipientName = "Please enter the recipient's name."
    if (iban.state !== 'valid') found.recipientIban = iban.state === 'empty' ? "Please enter the recipient's IBAN." : iban.message
    else if (ownIban) found.recipientIban = "That's your own account."
    if (!amount) found.amount = 'Please enter an amount in euros, like 12.50.'
    else if (Number(amount) <= 0) found.amount = 'The amount must be more than €0.00.'
    return found
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (inFlight.current) return // a double click sends nothing twice
    const found = validate()
    setProblems(found)
    setTouchedIban(true)
    if (Object.keys(found).length) {
      document.getElementById(`transfer-${Object.keys(found)[0]}`)?.focus()
      return
    }
    inFlight.current = true
    setServerError(null)
    // The same attempt keeps its key: a retry after a network error can't create a second transfer.
    const key = attemptKey ?? dispatch(attemptStarted()).payload
    const result = await createTransfer({ key, body: toRequest(draft, amount!) })
    inFlight.current = false
    if ('data' in result && result.data) dispatch(transferCreated(result.data))
    else setServerError({ text: describeError(result.error), retry: isRetryable(result.error) })
  }

  return (
    <form className="transfer-form" onSubmit={submit} noValidate aria-labelledby="transfer-step-1">
      <h2 id="transfer-step-1" className="card-title">1. Recipient and amount</h2>
      {user && (
        <p className="muted from-line">
          From <strong>{user.firstName} {user.lastName}</strong> · <span className="mono">{formatIban(user.iban)}</span> ·
          available {formatMoney(user.balance)}
        </p>
      )}
      <div className={`input-field outlined ${problems.recipientName ? 'has-error' : ''}`}>
        <input id="transfer-recipientName" type="text" placeholder=" " autoComplete="off" value={draft.recipientName}
               onChange={change('recipientName')} required maxLength={200}
               aria-invalid={Boolean(problems.recipientName) || undefined} aria-describedby="recipientName-help" />
        <label htmlFor="transfer-recipientName">Recipient's name</label>
        <span id="recipientName-help" className="supporting-text">{problems.recipientName ?? ' '}</span>
      </div>
      <div className={`input-field outlined ${ibanProblem ? 'has-error' : ''} ${iban.state === 'valid' && !ownIban ? 'valid-field' : ''}`}>
        <input id="transfer-recipientIban" type="text" placeholder=" " autoComplete="off" spellCheck={false}
               inputMode="text" value={draft.recipientIban} onChange={change('recipientIban')}
               onBlur={() => setTouchedIban(true)} required maxLength={42}
               aria-invalid={Boolean(ibanProblem) || undefined} aria-describedby="iban-help" />
        <label htmlFor="transfer-recipientIban">IBAN</label>
        <span id="iban-help" className="supporting-text" data-testid="iban-help" aria-live="polite">
          {ibanProblem ?? (iban.state === 'valid' ? <><MaterialIcon name="check_circle" className="tiny" /> Valid IBAN · {formatIban(draft.recipientIban)}</> : iban.message)}
        </span>
      </div>
      <div className={`input-field outlined ${problems.amount ? 'has-error' : ''}`}>
        <input id="transfer-amount" type="text" inputMode="decimal" placeholder=" " autoComplete="off" value={draft.amount}
               onChange={change('amount')} required aria-invalid={Boolean(problems.amount) || undefined}
               aria-describedby="amount-help" />
        <label htmlFor="transfer-amount">Amount (€)</label>
        <span id="amount-help" className="supporting-text">{problems.amount ?? amountHint ?? 'Euros and cents, like 12.50'}</span>
      </div>
      <div className="input-field outlined">
        <input id="transfer-comment" type="text" placeholder=" " autoComplete="off" value={draft.comment}
               onChange={change('comment')} maxLength={500} aria-describedby="comment-help" />
        <label htmlFor="transfer-comment">Payment reference</label>
        <span id="comment-help" className="supporting-text">Optional; the recipient sees it</span>
      </div>
      {tags && tags.length > 0 && (
        <fieldset className="tag-picker">
          <legend>Tags <span className="muted">(optional, up to 6)</span></legend>
          {tags.map((tag) => {
            const on = draft.tags.includes(tag.title)
            return (
              <button key={tag.title} type="button" aria-pressed={on} onClick={() => toggleTag(tag.title)}
                      disabled={!on && draft.tags.length >= 6}
                      className={`chip tag-toggle ${on ? `${tagColorClass(tag.color)} on` : ''}`}>
                <TagIcon icon={tag.icon} /> {tag.title}
                {on && <MaterialIcon name="check" className="tiny" />}
              </button>
            )
          })}
        </fieldset>
      )}
      {serverError && (
        <div className="card-panel error-panel" role="alert">
          <MaterialIcon name="error_outline" />
          <span>{serverError.text}{serverError.retry ? ' Sending again is safe: it cannot book twice.' : ''}</span>
        </div>
      )}
      <button type="submit" className="btn filled btn-large waves-effect" disabled={isLoading} data-testid="transfer-submit">
        <MaterialIcon name="sms" className="left" />
        {isLoading ? 'Sending the mTAN…' : serverError?.retry ? 'Try again' : 'Continue: send me the mTAN'}
      </button>
    </form>
  )
}
