// Stat and gauge panels: each series reduced to one value (reduceOptions.calcs), shown with its
// mapping or unit, coloured by colorMode (background or value) from mappings and thresholds.
// A gauge is a small SVG arc from min to max with the threshold bands around it.
import { resolveColor, textOn } from '../model/colors'
import { type Display, display, fieldConfig } from '../model/fields'
import type { Series } from '../model/frames'
import { reduce } from '../model/reduce'
import type { FieldConfig, Panel } from '../model/types'

export interface Reduced {
  name: string
  value: number | null
  shown: Display
  config: FieldConfig
  series: Series
}

export function reduced(panel: Panel, series: Series[]): Reduced[] {
  const calc = ((panel.options?.reduceOptions as { calcs?: string[] } | undefined)?.calcs ?? ['lastNotNull'])[0]
  return series.map((s, i) => {
    const config = fieldConfig(panel.fieldConfig, { name: s.name, refId: s.refId })
    const value = reduce(s.values, calc)
    return { name: config.displayName ?? s.name, value, shown: display(value, config, i), config, series: s }
  })
}

interface Size {
  width: number
  height: number
}

function fit(text: string, width: number, height: number, max = 64): number {
  return Math.max(12, Math.min(max, height * 0.5, (width * 1.6) / Math.max(2, text.length)))
}

function Sparkline({ series, color }: { series: Series; color: string }) {
  const values = series.values.map((v) => (v === null || Number.isNaN(v) ? null : v))
  const real = values.filter((v): v is number => v !== null)
  if (real.length < 2) return null
  const lo = Math.min(...real)
  const hi = Math.max(...real)
  const points = values.map((v, i) => (v === null ? null
    : `${(i / (values.length - 1)) * 100},${100 - ((v - lo) / (hi - lo || 1)) * 90}`)).filter(Boolean)
  return (
    <svg className="stat-spark" viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true">
      <polyline points={points.join(' ')} fill="none" stroke={color} strokeWidth="2" vectorEffect="non-scaling-stroke" />
    </svg>
  )
}

export function StatPanel({ panel, series, size }: { panel: Panel; series: Series[]; size: Size }) {
  const options = (panel.options ?? {}) as { colorMode?: string; textMode?: string; graphMode?: string; orientation?: string }
  const items = reduced(panel, series)
  const horizontal = options.orientation === 'horizontal' ? false
    : options.orientation === 'vertical' ? true : size.width >= size.height
  const count = Math.max(1, items.length)
  const tileWidth = horizontal ? size.width / count : size.width
  const tileHeight = horizontal ? size.height : size.height / count
  const showName = options.textMode === 'value_and_name' || options.textMode === 'name'
    || ((options.textMode ?? 'auto') === 'auto' && items.length > 1)
  return (
    <div className="stat-tiles" style={{ flexDirection: horizontal ? 'row' : 'column' }}>
      {items.map((item, i) => {
        const mode = options.colorMode ?? 'value'
        const background = mode === 'background' || mode === 'background_solid' ? item.shown.color : undefined
        const color = background ? textOn(background) : mode === 'none' ? undefined : item.shown.color
        const text = item.shown.text + item.shown.suffix
        return (
          <div key={`${item.name}-${i}`} className="stat-tile" data-testid="stat-value" data-name={item.name}
            data-color={item.shown.color} data-value={item.value ?? ''} title={`${item.name}: ${text}`}
            style={{ background, color }}>
            {showName && options.textMode !== 'value' && <div className="stat-name">{item.name}</div>}
            {options.textMode !== 'name' && (
              <div className="stat-value" style={{ fontSize: fit(text, tileWidth, tileHeight - (showName ? 16 : 0)) }}>
                {text}
              </div>
            )}
            {options.graphMode === 'area' && <Sparkline series={item.series} color={color ?? item.shown.color} />}
          </div>
        )
      })}
    </div>
  )
}

const START = (150 * Math.PI) / 180 // the arc runs clockwise from 150° to 390° (240°)
const SWEEP = (240 * Math.PI) / 180

function arc(cx: number, cy: number, r: number, from: number, to: number): string {
  const a0 = START + SWEEP * from
  const a1 = START + SWEEP * to
  const large = a1 - a0 > Math.PI ? 1 : 0
  const p = (a: number) => `${(cx + r * Math.cos(a)).toFixed(2)} ${(cy + r * Math.sin(a)).toFixed(2)}`
  return `M ${p(a0)} A ${r} ${r} 0 ${large} 1 ${p(a1)}`
}

export function GaugePanel({ panel, series }: { panel: Panel; series: Series[] }) {
  const options = (panel.options ?? {}) as { showThresholdMarkers?: boolean }
  return (
    <div className="gauges">
      {reduced(panel, series).map((item, i) => {
        const min = item.config.min ?? 0
        const max = item.config.max ?? 100
        const share = item.value === null || Number.isNaN(item.value) ? 0
          : Math.max(0, Math.min(1, (item.value - min) / (max - min || 1)))
        const steps = [...(item.config.thresholds?.steps ?? [])]
          .sort((a, b) => (a.value ?? -Infinity) - (b.value ?? -Infinity))
        const bounds = steps.map((s, k) => {
          const lo = s.value === null ? min : s.value
          const hi = k + 1 < steps.length ? (steps[k + 1].value as number) : max
          const part = (v: number) => Math.max(0, Math.min(1, (v - min) / (max - min || 1)))
          return { from: part(lo), to: part(hi), color: resolveColor(s.color) }
        }).filter((b) => b.to > b.from)
        const text = item.shown.text + item.shown.suffix
        return (
          <div key={`${item.name}-${i}`} className="gauge" data-testid="gauge" data-name={item.name}
            data-value={item.value ?? ''} data-color={item.shown.color} data-share={share.toFixed(4)}>
            <svg viewBox="0 0 200 170" role="img" aria-label={`${item.name}: ${text} of ${min} to ${max}`}>
              <path d={arc(100, 100, 78, 0, 1)} stroke="#2c3037" strokeWidth="16" fill="none" />
              {share > 0 && <path data-testid="gauge-value" d={arc(100, 100, 78, 0, share)} stroke={item.shown.color}
                strokeWidth="16" fill="none" />}
              {options.showThresholdMarkers !== false && bounds.map((b, k) => (
                <path key={k} d={arc(100, 100, 92, b.from, b.to)} stroke={b.color} strokeWidth="5" fill="none" />
              ))}
              <text x="100" y="112" textAnchor="middle" fill={item.shown.color} fontSize={text.length > 7 ? 26 : 34}
                fontWeight="500">{text}</text>
            </svg>
          </div>
        )
      })}
    </div>
  )
}
