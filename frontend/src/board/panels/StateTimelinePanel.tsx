// A state timeline: one row per series, its segments coloured by the value mappings (or the
// thresholds), with the mapped text inside where it fits; gaps stay empty. Drawn by uPlot: the
// time axis and cursor are uPlot's, the segments come from a draw hook.
import { useMemo, useRef } from 'react'
import type uPlot from 'uplot'
import { textOn, withAlpha } from '../model/colors'
import { fieldConfig } from '../model/fields'
import type { Series } from '../model/frames'
import { type Segment, segments } from '../model/timeline'
import type { Panel } from '../model/types'
import { AXIS, TIME_AXIS } from './TimeSeriesPanel'
import { axisSize, UPlotChart } from './UPlotChart'

interface Props {
  panel: Panel
  series: Series[]
  step: number
  range: [number, number]
  syncKey?: string
  onDrawn: () => void
}

const clock = (t: number) => new Date(t * 1000).toLocaleTimeString()

export function StateTimelinePanel({ panel, series, step, range, syncKey, onDrawn }: Props) {
  const options = (panel.options ?? {}) as { mergeValues?: boolean; rowHeight?: number; showValue?: string }
  const configs = series.map((s) => fieldConfig(panel.fieldConfig, { name: s.name, refId: s.refId }))
  const rows: Segment[][] = series.map((s, i) => segments(s, configs[i], options.mergeValues !== false, step))
  const names = series.map((s) => s.name)
  const times = series[0]?.times ?? []
  const end = times.length ? times[times.length - 1] + step : 0
  const data = useMemo(() => [times.length ? [...times, end] : times, ...series.map(() => [...times.map(() => null), null])] as uPlot.AlignedData,
    [series])
  const shapeKey = JSON.stringify([panel.id, names])
  const latestRows = useRef(rows)
  latestRows.current = rows
  const latestRange = useRef(range)
  latestRange.current = range

  const chartOptions = useMemo((): Omit<uPlot.Options, 'width' | 'height'> => ({
    legend: { show: false },
    cursor: { sync: syncKey ? { key: syncKey } : undefined, points: { show: false }, y: false },
    scales: { x: { time: true, range: () => latestRange.current }, y: { auto: false, range: [0, Math.max(1, names.length)] } },
    axes: [
      TIME_AXIS,
      { ...AXIS, grid: { show: false }, ticks: { show: false },
        splits: () => names.map((_, i) => names.length - i - 0.5),
        values: (_u, splits) => splits.map((s) => names[names.length - 1 - Math.floor(s)] ?? ''),
        size: (u, values, axisIdx) => axisSize(u, values, axisIdx) },
    ],
    series: [{}, ...names.map((name) => ({ label: name, show: true, stroke: 'transparent', points: { show: false } }))],
    hooks: {
      draw: [(u) => {
        const { ctx, bbox } = u
        const ratio = window.devicePixelRatio || 1
        const band = bbox.height / Math.max(1, names.length)
        const height = band * Math.min(1, Math.max(0.1, options.rowHeight ?? 0.9))
        ctx.save()
        ctx.beginPath()
        ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height)
        ctx.clip()
        ctx.font = `${12 * ratio}px Inter, Arial, sans-serif`
        ctx.textBaseline = 'middle'
        ctx.textAlign = 'left' // uPlot leaves the axes' alignment on the context
        latestRows.current.forEach((row, r) => {
          const top = bbox.top + r * band + (band - height) / 2
          for (const seg of row) {
            if (seg.value === null) continue
            const x0 = u.valToPos(seg.from, 'x', true)
            const x1 = u.valToPos(seg.to, 'x', true)
            if (x1 < bbox.left || x0 > bbox.left + bbox.width) continue
            ctx.fillStyle = withAlpha(seg.color, 0.85)
            ctx.fillRect(x0, top, Math.max(1, x1 - x0 - 1), height)
            const label = options.showValue === 'never' ? '' : seg.text
            const room = x1 - x0 - 8 * ratio
            if (label && ctx.measureText(label).width < room) {
              ctx.fillStyle = textOn(seg.color)
              ctx.fillText(label, Math.max(x0, bbox.left) + 4 * ratio, top + height / 2)
            }
          }
        })
        ctx.restore()
      }],
    },
  }), [shapeKey])

  const tooltip = (u: uPlot, index: number, top: number) => {
    const time = times[Math.min(index, times.length - 1)]
    const r = Math.floor(top / (u.bbox.height / (window.devicePixelRatio || 1) / Math.max(1, names.length)))
    const row = rows[Math.max(0, Math.min(rows.length - 1, r))]
    const seg = row?.find((s) => s.from <= time && time < s.to)
    if (!row || !seg) return null
    return { time, rows: [{ color: seg.color, label: names[rows.indexOf(row)],
      value: seg.value === null ? 'no data' : `${seg.text} (${clock(seg.from)}–${clock(seg.to)})` }] }
  }

  return (
    <>
      <UPlotChart shapeKey={shapeKey} options={chartOptions} data={data} tooltip={tooltip} onDrawn={onDrawn}
        label={`${panel.title ?? 'States'}: ${names.length} rows of states over time`} />
      <ul className="sr-only" data-testid="timeline-summary">
        {rows.map((row, i) => (
          <li key={names[i]} data-row={names[i]} data-segments={JSON.stringify(row.map((s) => ({ from: s.from, to: s.to,
            value: s.value, text: s.text })))}>
            {names[i]}: {row.map((s) => `${s.value === null ? 'no data' : s.text} ${clock(s.from)}–${clock(s.to)}`)
              .join('; ')}
          </li>
        ))}
      </ul>
    </>
  )
}
