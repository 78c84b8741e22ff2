import { formatTime } from '../../utils/format'
import { MaterialIcon } from '../../utils/Icon'
import { errorCode } from '../../utils/errors'
import { useGetSmsQuery } from './transfersApi'

/** Splits "PiggyBank mTAN 123456 for ..." so that the code stands out (still plain text). */
function SmsBody({ body }: { body: string }) {
  const match = /^(.*?mTAN )(\d{6})(.*)$/s.exec(body)
  if (!match) return <>{body}</>
  return <>{match[1]}<strong className="sms-code" data-testid="sms-code">{match[2]}</strong>{match[3]}</>
}

/**
 * Demo mode's stand-in for the customer's phone: the SMS the bank "sent", polled every two seconds
 * while the transfer screen is open. It disappears when the server has demo mode off (404).
 */
export function DemoPhone() {
  const { data: messages, error, isLoading } = useGetSmsQuery(undefined, { pollingInterval: 2000, refetchOnMountOrArgChange: true })
  if (error && errorCode(error) === 'not_found') return null
  return (
    <aside className="demo-phone" aria-labelledby="phone-title" data-testid="demo-phone">
      <div className="phone-frame">
        <div className="phone-notch" aria-hidden="true" />
        <div className="phone-screen">
          <h2 id="phone-title" className="phone-title">
            <MaterialIcon name="smartphone" /> Demo phone
          </h2>
          <p className="phone-hint">In demo mode the bank's text messages arrive here.</p>
          <ol className="sms-list" aria-live="polite">
            {isLoading && <li className="sms muted">Loading messages…</li>}
            {!isLoading && !messages?.length && <li className="sms muted">No messages yet.</li>}
            {messages?.slice(0, 5).map((sms) => (
              <li key={sms.id} className="sms" data-testid="sms" data-sms-id={sms.id}>
                <div className="sms-from">PiggyBank <span>{formatTime(sms.createdAt)}</span></div>
                <p className="sms-body"><SmsBody body={sms.body} /></p>
              </li>
            ))}
          </ol>
        </div>
      </div>
    </aside>
  )
}
