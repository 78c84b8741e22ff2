// The alert list panel over Prometheus' alerts (GET /api/v1/alerts): the states its stateFilter
// asks for, the name and label filters, grouped by alert rule, sorted by sortOrder
// (1/2 by name, 3 by importance, 4/5 by time), at most maxItems.
import type { Labels } from './legend'

export interface PromAlert {
  labels: Labels
  annotations: Record<string, string>
  state: 'pending' | 'firing' | 'inactive'
  activeAt?: string
  value?: string
}

export interface AlertRule {
  name: string
  state: 'firing' | 'pending' | 'inactive'
  since: number | null // seconds: the oldest instance's activeAt
  summary?: string
  instances: PromAlert[]
}

interface AlertListOptions {
  maxItems?: number
  sortOrder?: number
  alertName?: string
  alertInstanceLabelFilter?: string
  showInactiveAlerts?: boolean
  stateFilter?: Record<string, boolean>
}

/** {a="b", c!="d"}-style matchers of alertInstanceLabelFilter (=, !=, =~, !~). */
export function labelFilter(text: string | undefined): (labels: Labels) => boolean {
  const body = (text ?? '').trim().replace(/^\{|\}$/g, '')
  if (!body) return () => true
  const matchers = [...body.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map(([, label, op, value]) => {
    const regex = new RegExp(`^(?:${value})$`)
    return (labels: Labels) => {
      const actual = labels[label] ?? ''
      return op === '=' ? actual === value : op === '!=' ? actual !== value : op === '=~' ? regex.test(actual)
        : !regex.test(actual)
    }
  })
  return (labels) => matchers.every((m) => m(labels))
}

const IMPORTANCE = { firing: 0, pending: 1, inactive: 2 }

export function alertRules(alerts: PromAlert[], options: AlertListOptions): AlertRule[] {
  const states = options.stateFilter ?? { firing: true, pending: true }
  const wanted = (state: string) => (state === 'inactive' ? !!(options.showInactiveAlerts || states.normal)
    : !!states[state])
  const byLabels = labelFilter(options.alertInstanceLabelFilter)
  const name = (options.alertName ?? '').toLowerCase()
  const rules = new Map<string, AlertRule>()
  for (const alert of alerts) {
    const alertName = alert.labels.alertname ?? '(unnamed)'
    if (!wanted(alert.state) || !byLabels(alert.labels) || (name && !alertName.toLowerCase().includes(name))) continue
    const since = alert.activeAt ? Date.parse(alert.activeAt) / 1000 : null
    const rule = rules.get(alertName) ?? { name: alertName, state: alert.state, since, instances: [],
      summary: alert.annotations?.summary }
    if (IMPORTANCE[alert.state] < IMPORTANCE[rule.state]) rule.state = alert.state
    if (since !== null && (rule.since === null || since < rule.since)) rule.since = since
    rule.instances.push(alert)
    rules.set(alertName, rule)
  }
  const list = [...rules.values()]
  const byName = (a: AlertRule, b: AlertRule) => a.name.localeCompare(b.name)
  const byTime = (a: AlertRule, b: AlertRule) => (a.since ?? 0) - (b.since ?? 0)
  switch (options.sortOrder) {
    case 2: list.sort((a, b) => byName(b, a)); break
    case 3: list.sort((a, b) => IMPORTANCE[a.state] - IMPORTANCE[b.state] || byName(a, b)); break
    case 4: list.sort(byTime); break
    case 5: list.sort((a, b) => byTime(b, a)); break
    default: list.sort(byName)
  }
  return list.slice(0, options.maxItems ?? 10)
}
