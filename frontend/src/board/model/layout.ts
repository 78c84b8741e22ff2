// gridPos on Grafana's 24-column grid: rows group the panels below them (a collapsed row keeps its
// panels in row.panels), collapsing a row moves everything below it up, and within a row panels
// float up as far as they can (Grafana's grid compacts vertically). Heights are in grid units of
// 30 px with 8 px gaps. On a narrow screen every panel takes the full width, in reading order.
import type { Panel } from './types'

export const COLUMNS = 24
export const CELL_HEIGHT = 30
export const GAP = 8
export const NARROW = 769 // px: below this Grafana stacks the panels

export interface Placed {
  key: string
  panel: Panel
  x: number
  y: number
  w: number
  h: number
  rowKey?: string // the row a panel belongs to
}

export interface Section {
  row?: Panel
  rowKey?: string
  panels: Panel[]
}

export const panelKey = (panel: Panel, index: number) => `${panel.id ?? `i${index}`}`

const byPosition = (a: Panel, b: Panel) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x

/** The dashboard's panels as rows and the panels each holds (the first section may have no row). */
export function sections(panels: Panel[]): Section[] {
  const result: Section[] = []
  let current: Section = { panels: [] }
  for (const panel of [...panels].sort(byPosition)) {
    if (panel.type === 'row') {
      if (current.row || current.panels.length) result.push(current)
      current = { row: panel, rowKey: `row-${panel.id ?? panel.gridPos.y}`, panels: [...(panel.panels ?? [])] }
    } else {
      current.panels.push(panel)
    }
  }
  if (current.row || current.panels.length) result.push(current)
  return result
}

function overlaps(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
}

const clampX = (panel: Panel) => {
  const w = Math.max(1, Math.min(COLUMNS, panel.gridPos.w))
  return { x: Math.max(0, Math.min(COLUMNS - w, panel.gridPos.x)), w, h: Math.max(1, panel.gridPos.h) }
}

/** Where every visible row and panel goes, given which rows are collapsed. */
export function layout(panels: Panel[], collapsed: Set<string>): Placed[] {
  const placed: Placed[] = []
  let top = 0
  let index = 0
  for (const section of sections(panels)) {
    if (section.row && section.rowKey) {
      placed.push({ key: section.rowKey, panel: section.row, x: 0, y: top, w: COLUMNS, h: 1 })
      top += 1
    }
    if (section.rowKey && collapsed.has(section.rowKey)) continue
    const children = [...section.panels].sort(byPosition)
    const first = children.length ? Math.min(...children.map((p) => p.gridPos.y)) : 0
    const inSection: Placed[] = []
    for (const panel of children) {
      const { x, w, h } = clampX(panel)
      let y = top + Math.max(0, panel.gridPos.y - first)
      while (y > top && !inSection.some((other) => overlaps({ x, y: y - 1, w, h }, other))) y -= 1
      while (inSection.some((other) => overlaps({ x, y, w, h }, other))) y += 1
      const item = { key: `p-${panelKey(panel, index++)}`, panel, x, y, w, h, rowKey: section.rowKey }
      inSection.push(item)
    }
    placed.push(...inSection)
    top = Math.max(top, ...inSection.map((p) => p.y + p.h))
  }
  return placed
}

/** The same panels stacked at full width in reading order (narrow screens). */
export function stacked(placed: Placed[]): Placed[] {
  let top = 0
  return [...placed].sort((a, b) => a.y - b.y || a.x - b.x).map((item) => {
    const moved = { ...item, x: 0, w: COLUMNS, y: top }
    top += item.h
    return moved
  })
}

/** Pixel height of h grid units. */
export const heightPx = (h: number) => h * CELL_HEIGHT + (h - 1) * GAP

/** The rows collapsed in the file itself. */
export function initiallyCollapsed(panels: Panel[]): Set<string> {
  return new Set(sections(panels).filter((s) => s.row?.collapsed && s.rowKey).map((s) => s.rowKey as string))
}
