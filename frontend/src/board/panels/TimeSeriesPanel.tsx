// A timeseries panel: lines (or bars/points per drawStyle) with the fieldConfig's unit, min/max,
// fill opacity, stacking, threshold lines, the legend below and a hover tooltip; drawn by uPlot.
import { useMemo, useRef } from 'react'
import uPlot from 'uplot'
import { paletteColor, resolveColor, withAlpha } from '../model/colors'
import { display, fieldConfig } from '../model/fields'
import type { Series } from '../model/frames'
import { thresholdLines } from '../model/thresholds'
import { stackValues } from '../model/timeline'
import type { FieldConfig, Panel } from '../model/types'
import { formatTicks, join } from '../model/units'
import { axisSize, UPlotChart } from './UPlotChart'

export const AXIS = { stroke: '#a4a8b6', grid: { stroke: 'rgba(204, 204, 220, 0.08)', width: 1 },
  ticks: { stroke: 'rgba(204, 204, 220, 0.12)', width: 1 }, font: '11px Inter, Arial, sans-serif' }

const CLOCK = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hour12: false })
const CLOCK_SECONDS = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit',
  hour12: false })
const DAY = new Intl.DateTimeFormat(undefined, { month: '2-digit', day: '2-digit' })

/** The time axis as Grafana labels it: 24-hour clock times, seconds on short ranges, dates on long ones. */
export const TIME_AXIS = {
  ...AXIS,
  space: 70, // px between ticks: room for "11:53:00"

  values: (u: uPlot, splits: number[]) => {
    const span = (u.scales.x.max ?? 0) - (u.scales.x.min ?? 0)
    return splits.map((t) => {
      const date = new Date(t * 1000)
      if (span > 2 * 86400) return `${DAY.format(date)} ${CLOCK.format(date)}`
      return (span <= 600 ? CLOCK_SECONDS : CLOCK).format(date)
    })
  },
}

interface Props {
  panel: Panel
  series: Series[]
  range: [number, number]
  syncKey?: string
  onDrawn: () => void
}

function seriesColor(config: FieldConfig, index: number): string {
  if (config.color?.mode === 'fixed') return resolveColor(config.color.fixedColor)
  if (config.color?.mode === 'thresholds') return resolveColor(config.thresholds?.steps?.[0]?.color)
  return paletteColor(index)
}

export function TimeSeriesPanel({ panel, series, range, syncKey, onDrawn }: Props) {
  const latestRange = useRef(range)
  latestRange.current = range
  const configs = series.map((s) => fieldConfig(panel.fieldConfig, { name: s.name, refId: s.refId }))
  const defaults = panel.fieldConfig?.defaults ?? {}
  const custom = defaults.custom ?? {}
  const stacked = (custom.stacking as { mode?: string } | undefined)?.mode === 'normal'
  const legend = (panel.options?.legend ?? {}) as { showLegend?: boolean; placement?: string }
  const tooltipMode = ((panel.options?.tooltip ?? {}) as { mode?: string; sort?: string })
  const unit = defaults.unit
  const times = series[0]?.times ?? []
  const raw = series.map((s) => s.values.map((v) => (v === null || Number.isNaN(v) ? null : v)))
  const drawn = stacked ? stackValues(raw) : raw
  const data = useMemo(() => [times, ...drawn] as uPlot.AlignedData, [series])
  const colors = configs.map((c, i) => seriesColor(c, i))
  const shapeKey = JSON.stringify([panel.id, series.map((s) => s.name), colors, stacked])

  const options = useMemo((): Omit<uPlot.Options, 'width' | 'height'> => {
    const lines = (custom.thresholdsStyle as { mode?: string } | undefined)?.mode ?? 'off'
    const steps = thresholdLines(defaults.thresholds)
    const opts: Omit<uPlot.Options, 'width' | 'height'> = {
      legend: { show: false },
      cursor: { sync: syncKey ? { key: syncKey } : undefined, points: { size: 6 } },
      scales: {
        x: { time: true, range: () => latestRange.current },
        y: {
          range: (_u, dataMin, dataMax) => {
            const lo = defaults.min ?? (dataMin === null ? 0 : dataMin)
            let hi = defaults.max ?? (dataMax === null ? 1 : dataMax)
            if (!(hi > lo)) hi = lo + (Math.abs(lo) || 1)
            const [softLo, softHi] = uPlot.rangeNum(lo, hi, 0.1, true)
            return [defaults.min ?? softLo, defaults.max ?? softHi]
          },
        },
      },
      axes: [
        TIME_AXIS,
        { ...AXIS, values: (_u, splits) => formatTicks(splits, unit, defaults.decimals),
          size: (u, values, axisIdx) => axisSize(u, values, axisIdx) },
      ],
      series: [{}, ...series.map((s, i) => {
        const c = configs[i].custom ?? {}
        const width = typeof c.lineWidth === 'number' ? c.lineWidth : 1
        const opacity = typeof c.fillOpacity === 'number' ? c.fillOpacity / 100 : 0
        const style = c.drawStyle as string | undefined
        const points = c.showPoints === 'always' || style === 'points'
        return {
          label: s.name, stroke: colors[i], width: style === 'points' ? 0 : width,
          fill: opacity > 0 && !(stacked && i > 0) ? withAlpha(colors[i], opacity) : undefined,
          spanGaps: c.spanNulls === true,
          points: { show: points, size: 4 },
          paths: style === 'bars' ? uPlot.paths.bars?.({ size: [0.6, 100] }) : undefined,
        }
      })],
      bands: stacked ? series.slice(1).map((_, i) => ({
        series: [i + 2, i + 1] as [number, number],
        fill: withAlpha(colors[i + 1], ((configs[i + 1].custom?.fillOpacity as number) ?? 0) / 100),
      })) : undefined,
      hooks: {
        draw: [(u) => {
          if (!lines.startsWith('line') && !lines.startsWith('dashed')) return
          const { ctx, bbox } = u
          ctx.save()
          ctx.lineWidth = 1 * (window.devicePixelRatio || 1)
          if (lines.startsWith('dashed')) ctx.setLineDash([6, 4])
          for (const step of steps) {
            const y = u.valToPos(step.value, 'y', true)
            if (y < bbox.top || y > bbox.top + bbox.height) continue
            ctx.strokeStyle = resolveColor(step.color)
            ctx.beginPath()
            ctx.moveTo(bbox.left, y)
            ctx.lineTo(bbox.left + bbox.width, y)
            ctx.stroke()
          }
          ctx.restore()
        }],
      },
    }
    return opts
  }, [shapeKey])

  const tooltip = (_u: uPlot, index: number) => {
    if (tooltipMode.mode === 'hidden') return null
    let rows = series.map((s, i) => ({ i, v: raw[i][index] }))
    if (tooltipMode.sort === 'desc') rows.sort((a, b) => (b.v ?? -Infinity) - (a.v ?? -Infinity))
    if (tooltipMode.sort === 'asc') rows.sort((a, b) => (a.v ?? Infinity) - (b.v ?? Infinity))
    rows = rows.filter((r) => r.v !== null)
    return { time: times[index], rows: rows.map((r) => ({ color: colors[r.i], label: series[r.i].name,
      value: join(display(r.v, configs[r.i], r.i)) })) }
  }

  const summary = series.map((s, i) => {
    const values = raw[i].filter((v): v is number => v !== null)
    const lastValue = values.length ? join(display(values[values.length - 1], configs[i], i)) : 'no value'
    return { name: s.name, last: lastValue, points: values.length }
  })

  return (
    <>
      <UPlotChart shapeKey={shapeKey} options={options} data={data} tooltip={tooltip} onDrawn={onDrawn}
        label={`${panel.title ?? 'Chart'}: ${series.length} series over time`} />
      {legend.showLegend !== false && (
        <ul className="legend" aria-label="Legend" tabIndex={0}>
          {series.map((s, i) => (
            <li key={`${s.refId}-${s.name}-${i}`}>
              <span className="swatch" style={{ background: colors[i] }} />{s.name}
            </li>
          ))}
        </ul>
      )}
      <ul className="sr-only" data-testid="series-summary">
        {summary.map((s, i) => (
          <li key={i} data-series={s.name} data-points={s.points}>{s.name}: last {s.last}</li>
        ))}
      </ul>
    </>
  )
}
