import { formatDuration, parseDuration, queryInterval, rangeLabel, rateInterval, resolveTime, timeRange } from './time'

describe('time', () => {
  it('parses and formats durations', () => {
    expect(parseDuration('30m')).toBe(1800)
    expect(parseDuration('1h30m')).toBe(5400)
    expect(parseDuration('500ms')).toBe(0.5)
    expect(parseDuration('15')).toBe(15)
    expect(() => parseDuration('soon')).toThrow(/not a duration/)
    expect(formatDuration(1800)).toBe('30m')
    expect(formatDuration(90)).toBe('90s')
    expect(formatDuration(86400)).toBe('1d')
    expect(formatDuration(0.25)).toBe('250ms')
  })
  it('resolves relative and absolute times', () => {
    expect(resolveTime('now', 1000)).toBe(1000)
    expect(resolveTime('now-5m', 1000)).toBe(700)
    expect(resolveTime('now-1h/h', 7300)).toBe(3600)
    expect(resolveTime('1700000000000', 0)).toBe(1_700_000_000)
    expect(resolveTime('2024-01-01T00:00:00Z', 0)).toBe(1_704_067_200)
    expect(() => timeRange('now', 'now-5m', 1000)).toThrow(/empty/)
  })
  it('labels the picker ranges', () => {
    expect(rangeLabel('now-30m', 'now')).toBe('Last 30 minutes')
    expect(rangeLabel('now-1h', 'now')).toBe('Last 1 hour')
    expect(rangeLabel('now-24h', 'now')).toBe('Last 24 hours')
  })
  it('the interval is the range over the points, rounded up to a nice step, at least the minimum', () => {
    expect(queryInterval(1800, 300, 2)).toBe(10)
    expect(queryInterval(300, 300, 2)).toBe(2)
    expect(queryInterval(21600, 300, 2)).toBe(120)
    expect(queryInterval(86400, 300, 2)).toBe(300)
    expect(queryInterval(1800, 300, 30)).toBe(30)
    expect(rateInterval(10, 2)).toBe(12)
    expect(rateInterval(2, 2)).toBe(8)
  })
})
