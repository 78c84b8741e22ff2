// The state timeline: each series is a row of segments, a segment lasting from its sample until
// the next one; with mergeValues, neighbours that show the same are one segment. A step without a
// sample is a gap (spanNulls off), so an outage that Prometheus missed shows as a hole.
import { type Display, display } from './fields'
import type { Series } from './frames'
import type { FieldConfig } from './types'

export interface Segment {
  from: number
  to: number
  value: number | null // null: a gap
  text: string
  color: string
}

export function segments(series: Series, config: FieldConfig, merge: boolean, step: number): Segment[] {
  const out: Segment[] = []
  const { times, values } = series
  for (let i = 0; i < times.length; i++) {
    const value = values[i] === null || Number.isNaN(values[i]) ? null : values[i]
    const from = times[i]
    const to = i + 1 < times.length ? times[i + 1] : times[i] + step
    const shown: Display | null = value === null ? null : display(value, config)
    const text = shown ? shown.text + shown.suffix : ''
    const previous = out[out.length - 1]
    if (previous && previous.to === from && (previous.value === null ? value === null
      : merge && value !== null && previous.text === text && previous.color === shown?.color)) {
      previous.to = to
      continue
    }
    out.push({ from, to, value, text, color: shown?.color ?? 'transparent' })
  }
  return out
}

/** Cumulative values for stacked series (stacking "normal"): each adds to the ones before it. */
export function stackValues(series: (number | null)[][]): (number | null)[][] {
  const totals: number[] = []
  return series.map((values) => values.map((v, i) => {
    if (v === null || Number.isNaN(v)) return null
    totals[i] = (totals[i] ?? 0) + v
    return totals[i]
  }))
}
