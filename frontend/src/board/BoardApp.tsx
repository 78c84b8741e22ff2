// PiggyBank's board: the provisioned Grafana dashboards, drawn where no Grafana runs. The URL is
// Grafana's (/d/<uid>/<slug>?from=…&to=…&refresh=…&var-<name>=…), so links between dashboards and
// bookmarks work the same; the time range, refresh and variables are picked in the header.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { type DashboardFile, dashboards as fetchDashboards, labelValues, settings as fetchSettings } from './api'
import { slug } from './model/dashboard'
import { heightPx, initiallyCollapsed, layout, NARROW, type Placed, stacked } from './model/layout'
import type { QueryContext } from './model/queries'
import { parseDuration, rangeLabel, timeRange } from './model/time'
import type { BoardSettings, Dashboard, VariableModel } from './model/types'
import { ALL, initialSelection, labelValuesQuery, sortOptions, type Variable, variableValue } from './model/variables'
import { PanelView } from './PanelView'

const RANGES = ['now-5m', 'now-15m', 'now-30m', 'now-1h', 'now-6h', 'now-24h']
const REFRESHES = ['5s', '10s', '30s']

interface Route {
  uid: string | null
  from?: string
  to?: string
  refresh?: string
  vars: Record<string, string[]>
}

function readRoute(): Route {
  const match = /^\/d\/([^/]+)/.exec(window.location.pathname)
  const params = new URLSearchParams(window.location.search)
  const vars: Record<string, string[]> = {}
  for (const [key, value] of params) {
    if (key.startsWith('var-')) (vars[key.slice(4)] ??= []).push(value)
  }
  return { uid: match ? decodeURIComponent(match[1]) : null, from: params.get('from') ?? undefined,
    to: params.get('to') ?? undefined, refresh: params.get('refresh') ?? undefined, vars }
}

function dashboardUrl(d: Dashboard, from: string, to: string, refresh: string, variables: Variable[]): string {
  const params = new URLSearchParams({ from, to })
  if (refresh) params.set('refresh', refresh)
  for (const v of variables) for (const value of v.selected) params.append(`var-${v.name}`, value)
  return `/d/${encodeURIComponent(d.uid)}/${slug(d.title)}?${params}`
}

function Notice({ settings }: { settings: BoardSettings | null }) {
  return (
    <p className="board-notice" data-testid="board-notice">
      <strong>This is PiggyBank&apos;s board, not Grafana:</strong> no Grafana server runs on this machine
      ({settings?.whyNoGrafana ?? 'Grafana is not installed'}), so PiggyBank draws the Grafana dashboards provisioned
      in <code>grafana/dashboards/</code> itself, from the same files and queries. To get Grafana
      {settings ? ` ${settings.grafanaVersion}` : ''}: run <code>make up</code> on a machine that reaches
      apt.grafana.com (it installs Grafana OSS from Grafana&apos;s APT repository and serves it here instead), or
      run the stack in containers with <code>docker compose up</code>.
    </p>
  )
}

function VariablePicker({ variable, onChange }: { variable: Variable; onChange: (selected: string[]) => void }) {
  const [open, setOpen] = useState(false)
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (!open) return
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !box.current?.contains(e.target as Node)) setOpen(false)
    }
    document.addEventListener('mousedown', close)
    document.addEventListener('keydown', close)
    return () => {
      document.removeEventListener('mousedown', close)
      document.removeEventListener('keydown', close)
    }
  }, [open])
  const all = variable.selected.includes(ALL)
  const summary = all ? 'All' : variable.selected.join(' + ') || 'none'
  const toggle = (value: string) => {
    if (value === ALL) return onChange([ALL])
    if (!variable.multi) return onChange([value])
    const current = all ? [] : variable.selected
    const next = current.includes(value) ? current.filter((v) => v !== value) : [...current, value]
    onChange(next.length ? next : variable.includeAll ? [ALL] : [value])
  }
  const menuId = `variable-${variable.name}`
  return (
    <div className="variable" ref={box}>
      <span className="sr-only" id={`${menuId}-label`}>{variable.label}</span>
      <label>
        <span aria-hidden="true">{variable.label}</span>
        <button type="button" aria-expanded={open} aria-controls={menuId} aria-labelledby={`${menuId}-label ${menuId}-value`}
          data-testid={`variable-${variable.name}`} data-selected={variable.selected.join(',')}
          onClick={() => setOpen(!open)}>
          <span id={`${menuId}-value`}>{summary}</span> ▾
        </button>
      </label>
      {variable.error && <span className="variable-error" role="status"> {variable.error}</span>}
      {open && (
        <fieldset className="variable-menu" id={menuId}>
          <legend className="sr-only">{variable.label}</legend>
          {variable.includeAll && (
            <label><input type="checkbox" checked={all} onChange={() => toggle(ALL)} /> All</label>
          )}
          {variable.options.map((option) => (
            <label key={option}>
              <input type={variable.multi ? 'checkbox' : 'radio'} name={menuId}
                checked={!all && variable.selected.includes(option)} onChange={() => toggle(option)} /> {option}
            </label>
          ))}
        </fieldset>
      )}
    </div>
  )
}

export function BoardApp() {
  const initial = useRef(readRoute())
  const [settings, setSettings] = useState<BoardSettings | null>(null)
  const [files, setFiles] = useState<DashboardFile[]>([])
  const [failure, setFailure] = useState<string | null>(null)
  const [uid, setUid] = useState<string | null>(initial.current.uid)
  const [from, setFrom] = useState<string | null>(null)
  const [to, setTo] = useState<string | null>(null)
  const [refresh, setRefresh] = useState<string | null>(null)
  const [variables, setVariables] = useState<Variable[] | null>(null)
  const [tick, setTick] = useState(0)
  const [now, setNow] = useState(() => Date.now() / 1000)
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set())
  const [narrow, setNarrow] = useState(() => window.matchMedia(`(max-width: ${NARROW - 1}px)`).matches)
  const settled = useRef(new Map<string, number>())
  const [drawnTick, setDrawnTick] = useState(-1)

  useEffect(() => {
    Promise.all([fetchSettings(), fetchDashboards()]).then(([s, list]) => {
      setSettings(s)
      setFiles(list)
    }, (error: Error) => setFailure(`The board could not load the dashboards: ${error.message}`))
    const media = window.matchMedia(`(max-width: ${NARROW - 1}px)`)
    const onMedia = () => setNarrow(media.matches)
    media.addEventListener('change', onMedia)
    const onPop = () => {
      initial.current = readRoute()
      setUid(initial.current.uid)
      setFrom(null)
    }
    window.addEventListener('popstate', onPop)
    return () => {
      media.removeEventListener('change', onMedia)
      window.removeEventListener('popstate', onPop)
    }
  }, [])

  const loaded = files.filter((f): f is Required<DashboardFile> => !!f.dashboard)
  const home = loaded.find((f) => f.file === settings?.home) ?? loaded[0]
  const current = (uid ? loaded.find((f) => f.dashboard.uid === uid) : home)?.dashboard
  const missing = uid && files.length && !current ? `There is no dashboard with uid "${uid}" in grafana/dashboards/.` : null

  // A dashboard opens with the URL's time range, refresh and variables, else its own.
  useEffect(() => {
    if (!current) return
    const route = initial.current
    const fromUrl = route.uid === null || route.uid === current.uid
    setFrom((fromUrl && route.from) || current.time?.from || 'now-6h')
    setTo((fromUrl && route.to) || current.time?.to || 'now')
    setRefresh(fromUrl && route.refresh !== undefined ? route.refresh : current.refresh ?? '')
    setCollapsed(initiallyCollapsed(current.panels))
    setVariables(null)
    settled.current.clear()
    setDrawnTick(-1)
    document.title = `${current.title} · PiggyBank board`
  }, [current?.uid])

  // Variable options from Prometheus' label values, again whenever the time range changes.
  useEffect(() => {
    if (!current || !from || !to) return
    let cancelled = false
    const range = timeRange(from, to, Date.now() / 1000)
    const route = initial.current
    const models = (current.templating?.list ?? []).filter((m) => m.type === 'query' || m.type === 'custom')
    Promise.all(models.map(async (model: VariableModel): Promise<Variable> => {
      const base = { name: model.name, label: model.label || model.name, description: model.description,
        multi: !!model.multi, includeAll: !!model.includeAll, allValue: model.allValue ?? undefined }
      let options: string[] = []
      let error: string | undefined
      try {
        if (model.type === 'custom') {
          options = String(typeof model.query === 'string' ? model.query : '').split(',').map((s) => s.trim())
            .filter(Boolean)
        } else {
          const query = labelValuesQuery(model)
          if (!query) throw new Error(`the board reads label_values() variable queries only`)
          options = sortOptions(await labelValues(query.label, query.match, range), model)
        }
      } catch (e) {
        error = `${base.label}: ${(e as Error).message}`
      }
      const previous = variables?.find((v) => v.name === model.name)?.selected
      const wanted = previous ?? (route.uid === null || route.uid === current.uid ? route.vars[model.name] ?? [] : [])
      return { ...base, options, error, selected: initialSelection(model, wanted, options) }
    })).then((list) => {
      if (!cancelled) setVariables(list)
    })
    return () => {
      cancelled = true
    }
  }, [current?.uid, from, to])

  // The URL follows what is shown, as Grafana's does.
  useEffect(() => {
    if (!current || !from || !to || refresh === null || !variables) return
    const url = dashboardUrl(current, from, to, refresh, variables)
    if (url !== window.location.pathname + window.location.search) window.history.replaceState(null, '', url)
  }, [current, from, to, refresh, variables])

  // Refresh: a new tick every interval (and on demand); each tick moves the range to now.
  useEffect(() => {
    if (!refresh) return
    let seconds: number
    try {
      seconds = parseDuration(refresh)
    } catch {
      return
    }
    const timer = window.setInterval(() => {
      setNow(Date.now() / 1000)
      setTick((t) => t + 1)
    }, Math.max(1, seconds) * 1000)
    return () => window.clearInterval(timer)
  }, [refresh])
  const refreshNow = () => {
    setNow(Date.now() / 1000)
    setTick((t) => t + 1)
  }

  const datasource = settings?.datasources.find((d) => d.type === 'prometheus' && d.isDefault)
    ?? settings?.datasources.find((d) => d.type === 'prometheus')
  const context = useMemo((): (QueryContext & { tick: number }) | null => {
    if (!from || !to || !variables) return null
    let range
    try {
      range = timeRange(from, to, now)
    } catch {
      return null
    }
    const values = Object.fromEntries(variables.map((v) => [v.name, variableValue(v)]))
    const scrape = datasource?.timeInterval ? parseDuration(datasource.timeInterval) : 15
    return { range, variables: values, scrapeInterval: scrape, tick }
  }, [from, to, variables, now, tick, datasource?.timeInterval])

  const placed: Placed[] = useMemo(() => {
    if (!current) return []
    const grid = layout(current.panels, collapsed)
    return narrow ? stacked(grid) : grid
  }, [current, collapsed, narrow])
  const visiblePanels = placed.filter((p) => p.panel.type !== 'row').map((p) => p.key)

  const onSettled = useCallback((key: string, settledTick: number) => {
    settled.current.set(key, settledTick)
    if (!context) return
    const all = visiblePanels.every((k) => (settled.current.get(k) ?? -1) >= context.tick)
    if (all && drawnTick < context.tick) {
      if (drawnTick < 0) performance.mark('board-drawn')
      setDrawnTick(context.tick)
    }
  }, [context, visiblePanels, drawnTick])

  const toggleRow = (key: string) => setCollapsed((old) => {
    const next = new Set(old)
    if (next.has(key)) next.delete(key)
    else next.add(key)
    return next
  })

  const openDashboard = (next: Dashboard) => {
    initial.current = { uid: next.uid, vars: {} }
    window.history.pushState(null, '', `/d/${encodeURIComponent(next.uid)}/${slug(next.title)}`)
    setUid(next.uid)
  }

  const ranges = from && !RANGES.includes(from) ? [from, ...RANGES] : RANGES
  const refreshes = [...new Set([...REFRESHES, ...(current?.timepicker?.refresh_intervals ?? []),
    ...(refresh ? [refresh] : [])])]
  const syncKey = (current as { graphTooltip?: number } | undefined)?.graphTooltip ? `board-${current?.uid}` : undefined

  return (
    <>
      <header className="board-header">
        <div className="board-title">
          <h1>{current?.title ?? 'PiggyBank board'}</h1>
          <span className="brand">PiggyBank board · the Grafana dashboards, drawn without Grafana</span>
        </div>
        <Notice settings={settings} />
        <div className="board-controls">
          <label>
            Dashboard
            <select value={current?.uid ?? ''} onChange={(e) => {
              const next = loaded.find((f) => f.dashboard.uid === e.target.value)
              if (next) openDashboard(next.dashboard)
            }} data-testid="dashboard-picker">
              {loaded.map((f) => <option key={f.file} value={f.dashboard.uid}>{f.dashboard.title}</option>)}
            </select>
          </label>
          {variables?.map((v) => (
            <VariablePicker key={v.name} variable={v} onChange={(selected) => {
              setVariables((list) => list?.map((x) => (x.name === v.name ? { ...x, selected } : x)) ?? null)
              setTick((t) => t + 1)
            }} />
          ))}
          <label>
            Time range
            <select value={from ?? ''} data-testid="time-range" onChange={(e) => {
              setFrom(e.target.value)
              setTo('now')
              refreshNow()
            }}>
              {ranges.map((r) => <option key={r} value={r}>{rangeLabel(r, to ?? 'now')}</option>)}
            </select>
          </label>
          <label>
            Refresh
            <select value={refresh ?? ''} data-testid="refresh" onChange={(e) => setRefresh(e.target.value)}>
              <option value="">Off</option>
              {refreshes.map((r) => <option key={r} value={r}>every {r}</option>)}
            </select>
          </label>
          <button type="button" onClick={refreshNow}>Refresh now</button>
          {(current?.links ?? []).filter((l) => l.type === 'link' && l.url).map((link) => {
            const params = new URLSearchParams()
            if (link.keepTime && from && to) {
              params.set('from', from)
              params.set('to', to)
            }
            if (link.includeVars) for (const v of variables ?? []) for (const s of v.selected) params.append(`var-${v.name}`, s)
            const href = `${link.url}${params.size ? `?${params}` : ''}`
            const target = loaded.find((f) => link.url === `/d/${f.dashboard.uid}` || link.url?.startsWith(`/d/${f.dashboard.uid}/`))
            return (
              <a key={link.title} href={href} title={link.tooltip} target={link.targetBlank ? '_blank' : undefined}
                onClick={(e) => {
                  if (!target || link.targetBlank) return
                  e.preventDefault()
                  initial.current = { ...readRouteOf(href), uid: target.dashboard.uid }
                  window.history.pushState(null, '', href)
                  setUid(target.dashboard.uid)
                }}>{link.title}</a>
            )
          })}
        </div>
        {failure && <p className="board-error" role="alert">{failure}</p>}
        {missing && <p className="board-error" role="alert">{missing}</p>}
        {files.filter((f) => f.error).map((f) => <p key={f.file} className="board-error" role="alert">{f.error}</p>)}
      </header>
      <main className="board" data-testid="board" data-dashboard={current?.uid} data-drawn-tick={drawnTick}
        data-tick={context?.tick ?? -1}>
        <div className="grid">
          {context && placed.map((item) => (
            <div key={`${current?.uid}-${item.key}`} className="grid-item" style={{
              gridColumn: `${item.x + 1} / span ${item.w}`, gridRow: `${item.y + 1} / span ${item.h}`,
              height: heightPx(item.h) }}>
              {item.panel.type === 'row' ? (
                <div className="row-header" data-testid="row" data-title={item.panel.title}>
                  <h2>
                    <button type="button" aria-expanded={!collapsed.has(item.key)} onClick={() => toggleRow(item.key)}>
                      <span className="chevron" aria-hidden="true">{collapsed.has(item.key) ? '▸' : '▾'}</span>
                      {item.panel.title}
                      {collapsed.has(item.key) && <span className="count">
                        ({countPanels(current as Dashboard, item.key)} panels)</span>}
                    </button>
                  </h2>
                </div>
              ) : (
                <PanelView panel={item.panel} context={context} headingLevel={item.rowKey ? 3 : 2} syncKey={syncKey}
                  onSettled={(t) => onSettled(item.key, t)} />
              )}
            </div>
          ))}
        </div>
      </main>
    </>
  )
}

function readRouteOf(href: string): Route {
  const url = new URL(href, window.location.origin)
  const params = url.searchParams
  return { uid: null, from: params.get('from') ?? undefined, to: params.get('to') ?? undefined,
    refresh: params.get('refresh') ?? undefined, vars: {} }
}

function countPanels(dashboard: Dashboard, rowKey: string): number {
  const row = dashboard.panels.find((p) => p.type === 'row' && `row-${p.id ?? p.gridPos.y}` === rowKey)
  if (row?.panels?.length) return row.panels.length
  const sorted = [...dashboard.panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x)
  const start = sorted.indexOf(row as (typeof sorted)[number])
  let count = 0
  for (const p of sorted.slice(start + 1)) {
    if (p.type === 'row') break
    count += 1
  }
  return count
}
