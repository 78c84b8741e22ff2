// One panel: its frame (title, the description as a tooltip), its queries run against Prometheus
// for the current time range and variables, and the visualisation its type names. It says
// "No data" when the queries return nothing and shows the error text when one fails.
import { useEffect, useId, useRef, useState } from 'react'
import { alerts as fetchAlerts, queryPrometheus } from './api'
import { type AlertRule, alertRules } from './model/alerts'
import { hasData, joinTable, type Series, type Table, toSeries } from './model/frames'
import { prepare, type QueryContext } from './model/queries'
import type { Panel } from './model/types'
import { AlertListPanel } from './panels/AlertListPanel'
import { StateTimelinePanel } from './panels/StateTimelinePanel'
import { GaugePanel, StatPanel } from './panels/StatPanel'
import { TablePanel } from './panels/TablePanel'
import { TimeSeriesPanel } from './panels/TimeSeriesPanel'

export const SUPPORTED = new Set(['stat', 'gauge', 'table', 'state-timeline', 'timeseries', 'alertlist'])

type Loaded =
  | { state: 'loading' }
  | { state: 'error'; error: string }
  | { state: 'nodata' }
  | { state: 'ready'; series: Series[]; table?: Table; rules?: AlertRule[]; step: number }

interface Props {
  panel: Panel
  context: QueryContext & { tick: number }
  headingLevel: 2 | 3
  syncKey?: string
  onSettled: (tick: number) => void
}

async function load(panel: Panel, context: QueryContext, signal: AbortSignal): Promise<Loaded> {
  if (panel.type === 'alertlist') {
    const rules = alertRules(await fetchAlerts(signal), (panel.options ?? {}) as Parameters<typeof alertRules>[1])
    return { state: 'ready', series: [], rules, step: 0 }
  }
  const queries = prepare(panel, context)
  if (!queries.length) return { state: 'nodata' }
  const answers = await Promise.allSettled(queries.map((q) => queryPrometheus(q.path, q.params, signal)))
  const failed = answers.map((a, i) => [a, queries[i].refId] as const).filter(([a]) => a.status === 'rejected')
  if (signal.aborted) throw new DOMException('aborted', 'AbortError')
  if (failed.length) {
    return { state: 'error', error: failed.map(([a, ref]) => `${ref}: ${((a as PromiseRejectedResult).reason as Error).message}`)
      .join('\n') }
  }
  const series = answers.flatMap((a, i) => toSeries((a as PromiseFulfilledResult<Awaited<ReturnType<typeof queryPrometheus>>>).value,
    queries[i].refId, queries[i].legendFormat, queries[i].expr, queries[i].grid))
  if (!hasData(series)) return { state: 'nodata' }
  const step = queries.find((q) => q.grid)?.grid?.step ?? 0
  if (panel.type === 'table') {
    const refIds = queries.map((q) => q.refId)
    return { state: 'ready', series, table: joinTable(series, refIds), step }
  }
  return { state: 'ready', series, step }
}

function useSize(ref: React.RefObject<HTMLElement | null>) {
  const [size, setSize] = useState({ width: 0, height: 0 })
  useEffect(() => {
    const element = ref.current
    if (!element) return
    const observer = new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect
      setSize((old) => (Math.abs(old.width - width) < 1 && Math.abs(old.height - height) < 1 ? old : { width, height }))
    })
    observer.observe(element)
    return () => observer.disconnect()
  }, [ref])
  return size
}

export function PanelView({ panel, context, headingLevel, syncKey, onSettled }: Props) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' })
  const [updatedTick, setUpdatedTick] = useState(-1)
  const body = useRef<HTMLDivElement>(null)
  const size = useSize(body)
  const id = useId()
  const contextKey = JSON.stringify(context)
  const supported = SUPPORTED.has(panel.type)

  useEffect(() => {
    if (!supported) {
      setLoaded({ state: 'error', error: `PiggyBank's board does not draw "${panel.type}" panels.` })
      setUpdatedTick(context.tick)
      return
    }
    const abort = new AbortController()
    load(panel, context, abort.signal).then((result) => {
      setLoaded(result)
      setUpdatedTick(context.tick)
    }, (error: Error) => {
      if (error.name === 'AbortError') return
      setLoaded({ state: 'error', error: error.message })
      setUpdatedTick(context.tick)
    })
    return () => abort.abort()
  }, [contextKey, panel])

  // Canvas panels report when uPlot has drawn; the others once React has painted.
  const drawsOnCanvas = loaded.state === 'ready' && (panel.type === 'timeseries' || panel.type === 'state-timeline')
  useEffect(() => {
    if (updatedTick < 0 || drawsOnCanvas) return
    const frame = requestAnimationFrame(() => onSettled(updatedTick))
    return () => cancelAnimationFrame(frame)
  }, [updatedTick, drawsOnCanvas])
  const drawn = () => onSettled(updatedTick)

  const Heading = headingLevel === 2 ? 'h2' : 'h3'
  const range: [number, number] = [context.range.from, context.range.to]
  let content: React.ReactNode
  if (loaded.state === 'loading') content = <p className="panel-message">Loading…</p>
  else if (loaded.state === 'error') content = <p className="panel-error" role="status" tabIndex={0} data-testid="panel-error">{loaded.error}</p>
  else if (loaded.state === 'nodata') content = <p className="panel-message" data-testid="no-data">No data</p>
  else if (panel.type === 'alertlist') {
    content = <AlertListPanel rules={loaded.rules ?? []} now={context.range.to}
      showInstances={(panel.options?.showInstances as boolean | undefined) !== false} />
  } else if (panel.type === 'stat') content = <StatPanel panel={panel} series={loaded.series} size={size} />
  else if (panel.type === 'gauge') content = <GaugePanel panel={panel} series={loaded.series} />
  else if (panel.type === 'table') content = <TablePanel panel={panel} table={loaded.table as Table} />
  else if (panel.type === 'state-timeline') {
    content = <StateTimelinePanel panel={panel} series={loaded.series} step={loaded.step} range={range}
      syncKey={syncKey} onDrawn={drawn} />
  } else content = <TimeSeriesPanel panel={panel} series={loaded.series} range={range} syncKey={syncKey} onDrawn={drawn} />

  return (
    <section className="panel" aria-labelledby={`${id}-title`} data-testid="panel" data-title={panel.title ?? ''}
      data-type={panel.type} data-state={loaded.state} data-updated={updatedTick}
      data-series={loaded.state === 'ready' ? loaded.series.length : 0}>
      <div className="panel-header">
        <Heading id={`${id}-title`}>{panel.title || '\u00a0'}</Heading>
        {panel.description && (
          <span className="panel-info">
            <button type="button" aria-label={`About ${panel.title ?? 'this panel'}`} aria-describedby={`${id}-about`}>i</button>
            <span role="tooltip" id={`${id}-about`} className="tooltip" data-testid="panel-description">
              {panel.description}</span>
          </span>
        )}
      </div>
      <div className="panel-body" ref={body}>{content}</div>
    </section>
  )
}
