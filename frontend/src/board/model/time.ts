// Time ranges, durations and the query interval, as Grafana's documentation describes them:
// relative times ("now-30m"), $__interval from the range and the panel's data points, and
// $__rate_interval = max($__interval + scrape interval, 4 × scrape interval).

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 }
const NAMES: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', y: 'year' }

/** Seconds in a duration such as "30m", "1h30m", "500ms" or "15" (seconds). */
export function parseDuration(text: string): number {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return parseFloat(trimmed)
  if (!/^(\d+(\.\d+)?(ms|[smhdwy]))+$/.test(trimmed)) throw new Error(`not a duration: "${text}"`)
  let seconds = 0
  for (const [, amount, , unit] of trimmed.matchAll(/(\d+(\.\d+)?)(ms|[smhdwy])/g)) {
    seconds += parseFloat(amount) * UNITS[unit]
  }
  return seconds
}

/** The shortest exact Prometheus duration for whole seconds ("30m", "90s", "1d"). */
export function formatDuration(seconds: number): string {
  if (seconds > 0 && seconds < 1) return `${Math.round(seconds * 1000)}ms`
  const whole = Math.round(seconds)
  for (const unit of ['y', 'w', 'd', 'h', 'm'] as const) {
    if (whole >= UNITS[unit] && whole % UNITS[unit] === 0) return `${whole / UNITS[unit]}${unit}`
  }
  return `${whole}s`
}

/** A Grafana time expression ("now", "now-6h", "now-1d/d", epoch milliseconds) as Unix seconds. */
export function resolveTime(text: string, now: number): number {
  const trimmed = text.trim()
  if (/^\d{10,}$/.test(trimmed)) return parseInt(trimmed, 10) / 1000 // Grafana URLs carry milliseconds
  const relative = /^now(?:([-+])([^/]+))?(?:\/([smhdwy]))?$/.exec(trimmed)
  if (relative) {
    const [, sign, amount, roundTo] = relative
    let time = now
    if (sign && amount) time += (sign === '-' ? -1 : 1) * parseDuration(amount)
    if (roundTo) time = Math.floor(time / UNITS[roundTo]) * UNITS[roundTo]
    return time
  }
  const parsed = Date.parse(trimmed)
  if (Number.isNaN(parsed)) throw new Error(`not a time: "${text}"`)
  return parsed / 1000
}

export interface TimeRange {
  from: number
  to: number
  raw: { from: string; to: string }
}

export function timeRange(from: string, to: string, now: number): TimeRange {
  const range = { from: resolveTime(from, now), to: resolveTime(to, now), raw: { from, to } }
  if (!(range.to > range.from)) throw new Error(`the time range ${from} to ${to} is empty`)
  return range
}

/** "Last 30 minutes" for "now-30m" to "now"; otherwise the two ends as written. */
export function rangeLabel(from: string, to: string): string {
  const last = /^now-(\d+)([smhdwy])$/.exec(from)
  if (last && to === 'now') {
    const amount = parseInt(last[1], 10)
    return `Last ${amount} ${NAMES[last[2]]}${amount === 1 ? '' : 's'}`
  }
  return `${from} to ${to}`
}

// Steps Grafana-like intervals snap to, in seconds: an interval is rounded up to the next one, so a
// panel never asks for more points than it has room for.
const NICE_INTERVALS = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600,
  43200, 86400, 604800]

/** $__interval in seconds: the range over the data points, rounded up, at least the minimum. */
export function queryInterval(rangeSeconds: number, maxDataPoints: number, minInterval: number): number {
  const raw = rangeSeconds / Math.max(1, maxDataPoints)
  const nice = NICE_INTERVALS.find((step) => step >= raw) ?? Math.ceil(raw / 86400) * 86400
  return Math.max(nice, minInterval)
}

/** $__rate_interval in seconds (Grafana's Prometheus data source, with the scrape interval). */
export function rateInterval(interval: number, scrapeInterval: number): number {
  return Math.max(interval + scrapeInterval, 4 * scrapeInterval)
}
