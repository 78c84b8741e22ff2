// What the board fetches, all from its own origin (nginx on the Grafana port): its settings, the
// dashboard files, and Prometheus' read-only query APIs.
import type { PromAlert } from './model/alerts'
import { parseDashboard } from './model/dashboard'
import type { PromResult } from './model/frames'
import type { BoardSettings, Dashboard } from './model/types'

export class QueryError extends Error {}

async function json(url: string, signal?: AbortSignal): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { signal, headers: { Accept: 'application/json' } })
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error
    throw new QueryError(`no answer from ${url.split('?')[0]}: ${(error as Error).message}`)
  }
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new QueryError(`${response.status} ${response.statusText} from ${url.split('?')[0]}`)
  }
  if (!response.ok) throw new QueryError(errorText(body) ?? `${response.status} ${response.statusText}`)
  return body
}

/** The message of Prometheus' error shape ({"error": "..."}) or the project's ({"error": {"message"}}). */
function errorText(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | null)?.error
  if (typeof error === 'string') return error
  if (error && typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message)
  return undefined
}

async function prometheus<T>(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<T> {
  const body = await json(`${path}?${new URLSearchParams(params)}`, signal) as { status: string; data: T; error?: string }
  if (body.status !== 'success') throw new QueryError(body.error ?? 'Prometheus did not answer success')
  return body.data
}

export const queryPrometheus = (path: string, params: Record<string, string>, signal?: AbortSignal) =>
  prometheus<PromResult>(path, params, signal)

export async function labelValues(label: string, match: string | undefined, range: { from: number; to: number }) {
  const params: Record<string, string> = { start: range.from.toFixed(0), end: range.to.toFixed(0) }
  if (match) params['match[]'] = match
  return prometheus<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values`, params)
}

export async function alerts(signal?: AbortSignal): Promise<PromAlert[]> {
  return (await prometheus<{ alerts: PromAlert[] }>('/api/v1/alerts', {}, signal)).alerts
}

export async function settings(): Promise<BoardSettings> {
  return await json('/board.json') as BoardSettings
}

export interface DashboardFile {
  file: string
  dashboard?: Dashboard
  error?: string
}

/** Every dashboard file nginx lists in /dashboards/ (its JSON autoindex), each parsed. */
export async function dashboards(): Promise<DashboardFile[]> {
  const listing = await json('/dashboards/') as { name: string; type: string }[]
  const files = listing.filter((e) => e.type === 'file' && e.name.endsWith('.json')).map((e) => e.name).sort()
  return Promise.all(files.map(async (file) => {
    try {
      return { file, dashboard: parseDashboard(await json(`/dashboards/${encodeURIComponent(file)}`), file) }
    } catch (error) {
      return { file, error: (error as Error).message }
    }
  }))
}
