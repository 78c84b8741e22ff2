// A dashboard file as the board reads it: checked for what it needs, with every panel (also those
// inside collapsed rows) reachable.
import type { Dashboard, Panel } from './types'

export function parseDashboard(json: unknown, file: string): Dashboard {
  const d = json as Partial<Dashboard> | null
  if (!d || typeof d !== 'object' || !Array.isArray(d.panels)) {
    throw new Error(`${file} is not a Grafana dashboard (no "panels" list)`)
  }
  for (const panel of allPanels(d.panels)) {
    const g = panel.gridPos
    if (!g || [g.x, g.y, g.w, g.h].some((n) => typeof n !== 'number')) {
      throw new Error(`${file}: panel "${panel.title ?? panel.id}" has no gridPos`)
    }
  }
  return { ...d, uid: d.uid || file.replace(/\.json$/, ''), title: d.title || file, panels: d.panels } as Dashboard
}

export function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...(p.panels ?? [])])
}

/** Grafana's URL slug of a title: /d/<uid>/<slug>. */
export function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
}
