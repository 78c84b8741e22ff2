import { heightPx, initiallyCollapsed, layout, sections, stacked } from './layout'
import type { Panel } from './types'

const p = (id: number, type: string, x: number, y: number, w: number, h: number, extra: Partial<Panel> = {}): Panel =>
  ({ id, type, title: `p${id}`, gridPos: { x, y, w, h }, ...extra })

const dashboard: Panel[] = [
  p(1, 'row', 0, 0, 24, 1),
  p(2, 'stat', 0, 1, 12, 5), p(3, 'stat', 12, 1, 12, 5),
  p(4, 'row', 0, 6, 24, 1),
  p(5, 'timeseries', 0, 7, 24, 8),
  p(6, 'row', 0, 15, 24, 1, { collapsed: true, panels: [p(7, 'table', 0, 40, 8, 4), p(8, 'gauge', 8, 40, 8, 4)] }),
  p(9, 'row', 0, 16, 24, 1),
  p(10, 'alertlist', 0, 17, 24, 6),
]

const at = (placed: ReturnType<typeof layout>) => Object.fromEntries(placed.map((i) => [i.panel.id, [i.x, i.y, i.w, i.h]]))

describe('grid layout', () => {
  it('rows own the panels below them; a collapsed row keeps its own', () => {
    const s = sections(dashboard)
    expect(s.map((x) => [x.row?.id, x.panels.map((q) => q.id)])).toEqual([[1, [2, 3]], [4, [5]], [6, [7, 8]], [9, [10]]])
    expect(initiallyCollapsed(dashboard)).toEqual(new Set(['row-6']))
  })
  it('places panels at their gridPos; the collapsed row takes one unit', () => {
    expect(at(layout(dashboard, initiallyCollapsed(dashboard)))).toEqual({
      1: [0, 0, 24, 1], 2: [0, 1, 12, 5], 3: [12, 1, 12, 5], 4: [0, 6, 24, 1], 5: [0, 7, 24, 8],
      6: [0, 15, 24, 1], 9: [0, 16, 24, 1], 10: [0, 17, 24, 6] })
  })
  it('expanding a row puts its panels right below it and moves the rest down', () => {
    const placed = at(layout(dashboard, new Set()))
    expect(placed[7]).toEqual([0, 16, 8, 4])
    expect(placed[8]).toEqual([8, 16, 8, 4])
    expect(placed[9]).toEqual([0, 20, 24, 1])
  })
  it('collapsing a row moves everything below it up', () => {
    const placed = at(layout(dashboard, new Set(['row-1', 'row-6'])))
    expect(placed[2]).toBeUndefined()
    expect(placed[4]).toEqual([0, 1, 24, 1])
    expect(placed[5]).toEqual([0, 2, 24, 8])
  })
  it('panels float up into free space; overlaps are pushed down', () => {
    const loose = [p(1, 'stat', 0, 3, 6, 2), p(2, 'stat', 0, 3, 6, 2), p(3, 'stat', 6, 9, 6, 2)]
    expect(at(layout(loose, new Set()))).toEqual({ 1: [0, 0, 6, 2], 2: [0, 2, 6, 2], 3: [6, 0, 6, 2] })
  })
  it('out-of-grid widths are clamped to the 24 columns', () => {
    expect(at(layout([p(1, 'stat', 20, 0, 12, 2)], new Set()))[1]).toEqual([12, 0, 12, 2])
    expect(at(layout([p(1, 'stat', 3, 0, 30, 2)], new Set()))[1]).toEqual([0, 0, 24, 2])
  })
  it('narrow screens stack every panel at full width in reading order', () => {
    const s = stacked(layout(dashboard.slice(0, 3), new Set()))
    expect(s.map((i) => [i.panel.id, i.x, i.y, i.w])).toEqual([[1, 0, 0, 24], [2, 0, 1, 24], [3, 0, 6, 24]])
  })
  it('grid units are 30 px with 8 px gaps', () => {
    expect(heightPx(1)).toBe(30)
    expect(heightPx(5)).toBe(182)
  })
})
