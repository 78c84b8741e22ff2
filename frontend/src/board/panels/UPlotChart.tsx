// One uPlot chart filling its box: created when the chart's shape changes (its key), fed new data
// otherwise, resized with its box; a hover tooltip shows what tooltipRows says for the hovered index.
import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface TooltipRow {
  color: string
  label: string
  value: string
}

interface Props {
  shapeKey: string
  options: Omit<uPlot.Options, 'width' | 'height'>
  data: uPlot.AlignedData
  label: string
  tooltip?: (u: uPlot, index: number, top: number) => { time: number; rows: TooltipRow[] } | null
  onDrawn?: () => void
}

export function UPlotChart({ shapeKey, options, data, label, tooltip, onDrawn }: Props) {
  const box = useRef<HTMLDivElement>(null)
  const tip = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const latest = useRef({ tooltip, onDrawn })
  latest.current = { tooltip, onDrawn }

  useEffect(() => {
    const element = box.current
    if (!element) return
    const hover: uPlot.Plugin = {
      hooks: {
        setCursor: (u) => {
          const el = tip.current
          const idx = u.cursor.idx
          const shown = idx === null || idx === undefined || u.cursor.left === undefined || u.cursor.left < 0
            ? null : latest.current.tooltip?.(u, idx, u.cursor.top ?? 0)
          if (!el) return
          if (!shown) {
            el.style.display = 'none'
            return
          }
          el.replaceChildren()
          const time = document.createElement('div')
          time.className = 'time'
          time.textContent = new Date(shown.time * 1000).toLocaleString()
          el.append(time)
          for (const row of shown.rows) {
            const line = document.createElement('div')
            const swatch = document.createElement('span')
            swatch.className = 'swatch'
            swatch.style.background = row.color
            line.append(swatch, ` ${row.label}: ${row.value}`)
            el.append(line)
          }
          el.style.display = 'block'
          const left = (u.cursor.left ?? 0) + u.over.offsetLeft
          const width = el.offsetWidth
          el.style.left = `${Math.max(0, left + 12 + width > element.clientWidth ? left - width - 12 : left + 12)}px`
          el.style.top = `${Math.max(0, (u.cursor.top ?? 0) + u.over.offsetTop - 10)}px`
        },
      },
    }
    const drawn: uPlot.Plugin = { hooks: { draw: () => latest.current.onDrawn?.() } }
    const size = { width: Math.max(50, element.clientWidth), height: Math.max(40, element.clientHeight) }
    const created = new uPlot({ ...options, ...size, plugins: [...(options.plugins ?? []), hover, drawn] }, data, element)
    plot.current = created
    const resize = new ResizeObserver(() => {
      const width = Math.max(50, element.clientWidth)
      const height = Math.max(40, element.clientHeight)
      if (width !== created.width || height !== created.height) created.setSize({ width, height })
    })
    resize.observe(element)
    return () => {
      resize.disconnect()
      created.destroy()
      plot.current = null
    }
  }, [shapeKey]) // rebuilt only when its shape changes; new data arrives through setData below

  useEffect(() => {
    plot.current?.setData(data)
  }, [data])

  return (
    <div className="chart" role="img" aria-label={label}>
      <div ref={box} style={{ position: 'absolute', inset: 0 }} />
      <div ref={tip} className="chart-tooltip" aria-hidden="true" />
    </div>
  )
}

/** Width in px an axis needs for its longest label. */
export function axisSize(u: uPlot, values: string[] | null, axisIdx: number): number {
  if (!values?.length) return 40
  const font = u.axes[axisIdx].font
  const ctx = u.ctx
  ctx.save()
  ctx.font = (Array.isArray(font) ? font[0] : font) ?? '12px sans-serif'
  const widest = Math.max(...values.map((v) => ctx.measureText(v).width)) / (window.devicePixelRatio || 1)
  ctx.restore()
  return Math.ceil(widest) + 18
}
