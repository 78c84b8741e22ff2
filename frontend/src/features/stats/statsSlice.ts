// Which statistics the overview shows, and the endpoint that fetches them.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit'
import { apiSlice } from '../api/apiSlice'
import type { Direction, Interval, Stats } from '../api/types'

export type StatsState = { interval: Interval; direction: Direction; showDifference: boolean }

const initialState: StatsState = { interval: 'monthly', direction: 'out', showDifference: false }

const statsSlice = createSlice({
  name: 'stats',
  initialState,
  reducers: {
    intervalChosen(state, action: PayloadAction<Interval>) {
      state.interval = action.payload
    },
    directionChosen(state, action: PayloadAction<Direction>) {
      state.direction = action.payload
    },
    differenceToggled(state, action: PayloadAction<boolean>) {
      state.showDifference = action.payload
    },
  },
  selectors: { selectStatsView: (state) => state },
})

export const { intervalChosen, directionChosen, differenceToggled } = statsSlice.actions
export const { selectStatsView } = statsSlice.selectors
export default statsSlice

export const statsApi = apiSlice.injectEndpoints({
  endpoints: (build) => ({
    getStats: build.query<Stats, { interval: Interval; direction: Direction }>({
      query: ({ interval, direction }) => ({ url: 'api/stats', params: { interval, direction } }),
      providesTags: ['Stats'],
    }),
  }),
})

export const { useGetStatsQuery } = statsApi

// --- turning the series into a chart -------------------------------------------------------

export type Point = { period: string; amount: number }

function nextPeriod(period: string, interval: Interval): string {
  if (interval === 'yearly') return String(Number(period) + 1)
  if (interval === 'monthly') {
    const [y, m] = period.split('-').map(Number)
    return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`
  }
  const d = new Date(`${period}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + 1)
  return d.toISOString().slice(0, 10)
}

/** How many periods a gap-free chart may have; beyond that only periods with transfers are shown. */
export const MAX_FILLED: Record<Interval, number> = { daily: 62, monthly: 36, yearly: 30 }

/**
 * The API lists only periods that had transfers. When the whole span is short enough, the periods
 * in between are filled with zero, so "difference to the previous period" compares neighbours.
 * A longer span (the seed's 2016/17 history next to today's transfers) keeps only the periods with
 * transfers, as the original app did, rather than drawing years of zeros.
 */
export function fillGaps(series: Stats['series'], interval: Interval, maxPoints = MAX_FILLED[interval]): Point[] {
  const points = series.map((p) => ({ period: p.period, amount: Number(p.amount) }))
  if (points.length < 2) return points
  const byPeriod = new Map(points.map((p) => [p.period, p.amount]))
  const filled: Point[] = []
  for (let period = points[0].period; period <= points[points.length - 1].period; period = nextPeriod(period, interval)) {
    filled.push({ period, amount: byPeriod.get(period) ?? 0 })
    if (filled.length > maxPoints) return points
  }
  return filled
}

/** Each period's amount minus the previous period's (the first period has nothing to compare to). */
export function differences(points: Point[]): Point[] {
  return points.slice(1).map((p, i) => ({ period: p.period, amount: Math.round((p.amount - points[i].amount) * 100) / 100 }))
}
