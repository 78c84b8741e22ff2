import { useEffect, useRef } from 'react'
import { Link } from 'react-router'
import { useAppDispatch, useAppSelector } from '../../app/hooks'
import { formatDateTime, formatMoney } from '../../utils/format'
import { formatIban } from '../../utils/iban'
import { MaterialIcon } from '../../utils/Icon'
import { useGetUserQuery } from '../api/apiSlice'
import { selectTransfer, startedOver } from './transferSlice'

/** The booked transfer; balance and activity refresh through the invalidated tags. */
export function TransferDone() {
  const dispatch = useAppDispatch()
  const { booked } = useAppSelector(selectTransfer)
  const { data: user } = useGetUserQuery()
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => heading.current?.focus(), [])
  if (!booked) return null
  return (
    <div className="transfer-done" data-testid="transfer-done" role="status">
      <div className="done-icon" aria-hidden="true"><MaterialIcon name="check_circle" /></div>
      <h2 ref={heading} tabIndex={-1} className="card-title">Transfer booked</h2>
      <p>
        <strong>{formatMoney(booked.amount)}</strong> went to <strong>{booked.recipientName}</strong>.
      </p>
      <dl className="summary">
        <div><dt>IBAN</dt><dd className="mono">{formatIban(booked.recipientIban)}</dd></div>
        {booked.comment && <div><dt>Reference</dt><dd>{booked.comment}</dd></div>}
        {booked.bookedAt && <div><dt>Booked</dt><dd>{formatDateTime(booked.bookedAt)}</dd></div>}
        <div><dt>Transfer no.</dt><dd>{booked.id}</dd></div>
        {user && <div><dt>New balance</dt><dd data-testid="new-balance">{formatMoney(user.balance)}</dd></div>}
      </dl>
      <div className="button-row">
        <button type="button" className="btn filled waves-effect" onClick={() => dispatch(startedOver())}>
          <MaterialIcon name="add" className="left" /> New transfer
        </button>
        <Link to="/activity" className="btn-flat waves-effect">See your activity</Link>
      </div>
    </div>
  )
}
