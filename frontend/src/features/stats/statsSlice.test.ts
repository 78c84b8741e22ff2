// @vitest-environment node
import { describe, expect, it } from 'vitest'
import statsSlice, { differences, differenceToggled, fillGaps, intervalChosen } from './statsSlice'

describe('stats slice', () => {
  it('starts monthly, money out, like the original', () => {
    expect(statsSlice.reducer(undefined, { type: 'init' })).toEqual({ interval: 'monthly', direction: 'out', showDifference: false })
  })

  it('changes interval and the difference view', () => {
    let state = statsSlice.reducer(undefined, intervalChosen('yearly'))
    state = statsSlice.reducer(state, differenceToggled(true))
    expect(state).toMatchObject({ interval: 'yearly', showDifference: true })
  })
})

describe('chart series', () => {
  it('fills the months without transfers with zero', () => {
    const filled = fillGaps([{ period: '2016-11', amount: '10.00' }, { period: '2017-02', amount: '5.50' }], 'monthly')
    expect(filled).toEqual([
      { period: '2016-11', amount: 10 }, { period: '2016-12', amount: 0 },
      { period: '2017-01', amount: 0 }, { period: '2017-02', amount: 5.5 },
    ])
  })

  it('keeps only the periods with transfers when the span is too long to fill', () => {
    const sparse = fillGaps([{ period: '2016-09', amount: '1' }, { period: '2026-11', amount: '2' }], 'monthly')
    expect(sparse.map((p) => p.period)).toEqual(['2016-09', '2026-11'])
  })

  it('fills days across a month end, but leaves a long daily span sparse', () => {
    expect(fillGaps([{ period: '2017-02-27', amount: '1' }, { period: '2017-03-01', amount: '2' }], 'daily').map((p) => p.period))
      .toEqual(['2017-02-27', '2017-02-28', '2017-03-01'])
    expect(fillGaps([{ period: '2016-01-01', amount: '1' }, { period: '2026-01-01', amount: '2' }], 'daily')).toHaveLength(2)
  })

  it('computes the difference to the previous period', () => {
    const points = [{ period: '2015', amount: 100 }, { period: '2016', amount: 250.1 }, { period: '2017', amount: 50 }]
    expect(differences(points)).toEqual([{ period: '2016', amount: 150.1 }, { period: '2017', amount: -200.1 }])
  })
})
