// An alert list: Prometheus' alerts in the states the panel's stateFilter asks for, by rule.
import { resolveColor, textOn } from '../model/colors'
import type { AlertRule } from '../model/alerts'

const COLORS = { firing: resolveColor('red'), pending: resolveColor('orange'), inactive: resolveColor('green') }

function since(seconds: number | null, now: number): string {
  if (seconds === null) return ''
  const s = Math.max(0, Math.round(now - seconds))
  return s < 120 ? `for ${s} s` : s < 7200 ? `for ${Math.round(s / 60)} min` : `for ${Math.round(s / 3600)} h`
}

export function AlertListPanel({ rules, showInstances, now }: { rules: AlertRule[]; showInstances: boolean; now: number }) {
  if (!rules.length) return <p className="panel-message" data-testid="no-alerts">No alerts firing or pending.</p>
  return (
    <ul className="alerts" tabIndex={0} aria-label="Alerts">
      {rules.map((rule) => (
        <li key={rule.name} data-testid="alert" data-alert={rule.name} data-state={rule.state}>
          <span className="alert-state" style={{ background: COLORS[rule.state], color: textOn(COLORS[rule.state]) }}>
            {rule.state}</span>
          <span className="alert-name">{rule.name}</span>{' '}
          <span className="alert-since">{since(rule.since, now)}</span>
          {rule.summary && <div className="alert-summary">{rule.summary}</div>}
          {showInstances && rule.instances.length > 0 && (
            <ul className="alert-instances">
              {rule.instances.map((a, i) => (
                <li key={i}>{a.state}: {Object.entries(a.labels).filter(([k]) => k !== 'alertname')
                  .map(([k, v]) => `${k}=${v}`).join(', ')}</li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ul>
  )
}
