// Prometheus answers as the series a panel draws: range results on the query's step grid (a step
// without a sample is null, so a gap stays a gap), instant results as one point, and table-format
// results joined into one table per panel (a row per label set, a "Value #<refId>" column per
// query when there are several), as Grafana's Prometheus data source presents them.
import { type Labels, seriesName } from './legend'

export interface PromSample {
  metric: Labels
  value?: [number, string]
  values?: [number, string][]
}

export interface PromResult {
  resultType: 'matrix' | 'vector' | 'scalar' | 'string'
  result: PromSample[] | [number, string]
}

export interface Series {
  refId: string
  name: string
  labels: Labels
  times: number[] // seconds
  values: (number | null)[]
}

export function sampleValue(text: string): number {
  if (text === '+Inf') return Infinity
  if (text === '-Inf') return -Infinity
  return parseFloat(text) // "NaN" -> NaN
}

export interface Grid {
  start: number
  end: number
  step: number
}

export function gridTimes(grid: Grid): number[] {
  const times: number[] = []
  for (let t = grid.start; t <= grid.end + 1e-9; t += grid.step) times.push(Math.round(t * 1000) / 1000)
  return times
}

/** Series from one target's answer; range results are laid on the grid. */
export function toSeries(data: PromResult, refId: string, legendFormat: string | undefined, expr: string,
  grid?: Grid): Series[] {
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    const [time, value] = data.result as [number, string]
    return [{ refId, name: seriesName({}, legendFormat, expr), labels: {}, times: [time],
      values: [sampleValue(value)] }]
  }
  return (data.result as PromSample[]).map((sample) => {
    const name = seriesName(sample.metric, legendFormat, expr)
    if (sample.values && grid) {
      const times = gridTimes(grid)
      const index = new Map(times.map((t, i) => [t, i]))
      const values: (number | null)[] = times.map(() => null)
      for (const [time, value] of sample.values) {
        const at = index.get(Math.round(time * 1000) / 1000)
        if (at !== undefined) values[at] = sampleValue(value)
      }
      return { refId, name, labels: sample.metric, times, values }
    }
    if (sample.values) {
      return { refId, name, labels: sample.metric, times: sample.values.map((p) => p[0]),
        values: sample.values.map((p) => sampleValue(p[1])) }
    }
    const [time, value] = sample.value ?? [0, 'NaN']
    return { refId, name, labels: sample.metric, times: [time], values: [sampleValue(value)] }
  })
}

export interface Table {
  columns: { name: string; kind: 'time' | 'label' | 'value'; refId?: string }[]
  rows: (string | number | null)[][]
}

const last = (s: Series): number | null => (s.values.length ? s.values[s.values.length - 1] : null)

/** One table from the series of table-format queries, joined on their labels (without __name__). */
export function joinTable(series: Series[], refIds: string[]): Table {
  const labelNames = [...new Set(series.flatMap((s) => Object.keys(s.labels)))].filter((l) => l !== '__name__').sort()
  const valueColumn = (refId: string) => (refIds.length > 1 ? `Value #${refId}` : 'Value')
  const columns: Table['columns'] = [{ name: 'Time', kind: 'time' },
    ...labelNames.map((name) => ({ name, kind: 'label' as const })),
    ...refIds.map((refId) => ({ name: valueColumn(refId), kind: 'value' as const, refId }))]
  const rows = new Map<string, (string | number | null)[]>()
  for (const s of series) {
    const key = labelNames.map((l) => s.labels[l] ?? '').join('\u0000')
    if (!rows.has(key)) {
      rows.set(key, [s.times[s.times.length - 1] ?? null, ...labelNames.map((l) => s.labels[l] ?? ''),
        ...refIds.map(() => null)])
    }
    const row = rows.get(key) as (string | number | null)[]
    row[1 + labelNames.length + refIds.indexOf(s.refId)] = last(s)
    row[0] = Math.max(Number(row[0] ?? 0), s.times[s.times.length - 1] ?? 0)
  }
  const sorted = [...rows.values()].sort((a, b) => String(a.slice(1, 1 + labelNames.length))
    .localeCompare(String(b.slice(1, 1 + labelNames.length))))
  return { columns, rows: sorted }
}

/** Whether a panel's series hold any value at all (else it shows "No data"). */
export function hasData(series: Series[]): boolean {
  return series.some((s) => s.values.some((v) => v !== null))
}
