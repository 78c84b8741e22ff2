// The Prometheus requests for a panel's targets: variables and macros substituted, instant queries
// at the range's end, range queries on a step of $__interval with the start aligned to it (so all
// series of a panel share one grid and repeat refreshes ask the same points).
import { parseDuration, queryInterval, rateInterval, formatDuration, type TimeRange } from './time'
import type { Panel, Target } from './types'
import { interpolate } from './variables'
import type { Grid } from './frames'

// Data points per series a panel asks for: a few hundred, whatever the range (the board's nginx
// refuses more than 500: nginx/prometheus_read.js).
export const MAX_DATA_POINTS = 300

export interface QueryContext {
  range: TimeRange
  variables: Record<string, string> // name -> what it stands for (variableValue)
  scrapeInterval: number // seconds: the data source's timeInterval
}

export interface PreparedQuery {
  refId: string
  expr: string
  legendFormat?: string
  instant: boolean
  format: string
  path: '/api/v1/query' | '/api/v1/query_range'
  params: Record<string, string>
  grid?: Grid
}

export function builtins(range: TimeRange, interval: number, scrape: number): Record<string, string> {
  const seconds = Math.round(range.to - range.from)
  const rate = rateInterval(interval, scrape)
  return {
    __interval: formatDuration(interval), __interval_ms: String(Math.round(interval * 1000)),
    __rate_interval: formatDuration(rate), __rate_interval_ms: String(Math.round(rate * 1000)),
    __range: `${seconds}s`, __range_s: String(seconds), __range_ms: String(seconds * 1000),
  }
}

export function panelInterval(panel: Panel, target: Target, context: QueryContext): number {
  const minimum = target.interval || panel.interval
  const min = minimum ? parseDuration(interpolate(minimum, context.variables)) : context.scrapeInterval
  return queryInterval(context.range.to - context.range.from, panel.maxDataPoints ?? MAX_DATA_POINTS, min)
}

export function prepare(panel: Panel, context: QueryContext): PreparedQuery[] {
  return (panel.targets ?? []).filter((t) => !t.hide && t.expr).map((target): PreparedQuery => {
    const interval = panelInterval(panel, target, context)
    const expr = interpolate(target.expr as string,
      { ...builtins(context.range, interval, context.scrapeInterval), ...context.variables })
    const instant = target.instant === true && target.range !== true
    const base = { refId: target.refId, expr, legendFormat: target.legendFormat, instant,
      format: target.format ?? 'time_series' }
    if (instant) {
      return { ...base, path: '/api/v1/query' as const, params: { query: expr, time: context.range.to.toFixed(3) } }
    }
    const start = Math.floor(context.range.from / interval) * interval
    const end = context.range.to
    const grid = { start, end, step: interval }
    return { ...base, path: '/api/v1/query_range' as const, grid,
      params: { query: expr, start: String(start), end: end.toFixed(3), step: String(interval) } }
  })
}
