import { alertRules, labelFilter, type PromAlert } from './alerts'
import { hasData, joinTable, toSeries } from './frames'
import { formatLabels, seriesName } from './legend'
import { reduce } from './reduce'

describe('legend formats', () => {
  it('replaces {{label}}, and names a series like Prometheus without one', () => {
    const labels = { __name__: 'up', appserver: 'appserver1', job: 'app' }
    expect(seriesName(labels, '{{appserver}} process', 'up')).toBe('appserver1 process')
    expect(seriesName(labels, '{{ appserver }}/{{missing}}', 'up')).toBe('appserver1/')
    expect(seriesName(labels, '', 'up')).toBe('up{appserver="appserver1", job="app"}')
    expect(seriesName(labels, '__auto', 'up')).toBe('up{appserver="appserver1", job="app"}')
    expect(seriesName({}, undefined, 'count(x)')).toBe('count(x)')
    expect(formatLabels({ b: '2', a: '1' })).toBe('{a="1", b="2"}')
  })
})

describe('frames', () => {
  it('lays range results on the step grid; a missing step is a gap (null)', () => {
    const [series] = toSeries({ resultType: 'matrix', result: [{ metric: { appserver: 'a' },
      values: [[100, '1'], [110, '1'], [130, '0']] }] }, 'A', '{{appserver}}', 'up', { start: 100, end: 135, step: 10 })
    expect(series.times).toEqual([100, 110, 120, 130])
    expect(series.values).toEqual([1, 1, null, 0])
    expect(series.name).toBe('a')
    expect(hasData([series])).toBe(true)
  })
  it('instant results are one point; NaN stays NaN; no series is no data', () => {
    const [series] = toSeries({ resultType: 'vector', result: [{ metric: {}, value: [5, 'NaN'] }] }, 'A', 'x', 'e')
    expect(series.times).toEqual([5])
    expect(Number.isNaN(series.values[0])).toBe(true)
    expect(hasData([])).toBe(false)
    expect(toSeries({ resultType: 'scalar', result: [7, '3'] }, 'A', undefined, 'vector(3)')[0].values).toEqual([3])
  })
  it('joins table queries on their labels with a Value #refId column each', () => {
    const a = toSeries({ resultType: 'vector', result: [
      { metric: { __name__: 'up', appserver: 'appserver2', job: 'app' }, value: [10, '1'] },
      { metric: { __name__: 'up', appserver: 'appserver1', job: 'app' }, value: [10, '0'] }] }, 'A', '', 'up')
    const b = toSeries({ resultType: 'vector', result: [
      { metric: { appserver: 'appserver1', job: 'app' }, value: [10, '0.25'] }] }, 'B', '', 'rate(x)')
    const table = joinTable([...a, ...b], ['A', 'B'])
    expect(table.columns.map((c) => c.name)).toEqual(['Time', 'appserver', 'job', 'Value #A', 'Value #B'])
    expect(table.rows).toEqual([[10, 'appserver1', 'app', 0, 0.25], [10, 'appserver2', 'app', 1, null]])
    expect(joinTable(a, ['A']).columns.at(-1)?.name).toBe('Value')
  })
})

describe('reducers', () => {
  it('lastNotNull skips null and NaN', () => {
    expect(reduce([1, 2, null, NaN], 'lastNotNull')).toBe(2)
    expect(reduce([1, 2, null], 'last')).toBeNull()
    expect(reduce([1, 5, 3], 'max')).toBe(5)
    expect(reduce([2, 4], 'mean')).toBe(3)
    expect(reduce([], 'lastNotNull')).toBeNull()
  })
})

describe('alert list', () => {
  const alert = (name: string, state: PromAlert['state'], at: string, labels = {}): PromAlert =>
    ({ labels: { alertname: name, ...labels }, annotations: { summary: `${name} summary` }, state, activeAt: at })
  const alerts = [alert('B', 'pending', '2026-01-01T00:00:05Z', { appserver: 'appserver1' }),
    alert('A', 'firing', '2026-01-01T00:00:09Z'), alert('B', 'firing', '2026-01-01T00:00:01Z', { appserver: 'appserver2' }),
    alert('C', 'inactive', '2026-01-01T00:00:00Z')]
  it('keeps the states asked for, groups by rule, sorts by importance', () => {
    const rules = alertRules(alerts, { sortOrder: 3, stateFilter: { firing: true, pending: true } })
    expect(rules.map((r) => [r.name, r.state, r.instances.length])).toEqual([['A', 'firing', 1], ['B', 'firing', 2]])
    expect(alertRules(alerts, { stateFilter: { pending: true } }).map((r) => r.name)).toEqual(['B'])
    expect(alertRules(alerts, { sortOrder: 4, stateFilter: { firing: true } }).map((r) => r.name)).toEqual(['B', 'A'])
    expect(alertRules(alerts, { maxItems: 1, stateFilter: { firing: true } })).toHaveLength(1)
    expect(alertRules(alerts, { showInactiveAlerts: true, stateFilter: {} }).map((r) => r.name)).toEqual(['C'])
  })
  it('filters by name and by instance labels', () => {
    expect(alertRules(alerts, { alertName: 'b', stateFilter: { firing: true, pending: true } })).toHaveLength(1)
    expect(labelFilter('{appserver="appserver1"}')({ appserver: 'appserver1' })).toBe(true)
    expect(labelFilter('{appserver!="appserver1"}')({ appserver: 'appserver1' })).toBe(false)
    expect(labelFilter('{appserver=~"app.*"}')({ appserver: 'appserver2' })).toBe(true)
  })
})
