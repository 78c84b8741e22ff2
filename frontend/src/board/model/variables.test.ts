import { builtins, prepare } from './queries'
import { timeRange } from './time'
import type { Panel } from './types'
import { ALL, type Variable, escapeForRegex, initialSelection, interpolate, labelValuesQuery, sortOptions,
  variableValue } from './variables'

const model = { type: 'query', name: 'appserver', multi: true, includeAll: true, sort: 1,
  query: { query: 'label_values(up{job="app"}, appserver)' }, current: { text: ['All'], value: [ALL] } }

const variable = (selected: string[], options = ['appserver1', 'appserver2']): Variable => ({
  name: 'appserver', label: 'App server', multi: true, includeAll: true, options, selected })

describe('variables', () => {
  it('reads label_values queries', () => {
    expect(labelValuesQuery(model)).toEqual({ match: 'up{job="app"}', label: 'appserver' })
    expect(labelValuesQuery({ type: 'query', name: 'x', query: 'label_values(job)' })).toEqual({ label: 'job' })
    expect(labelValuesQuery({ type: 'query', name: 'x', query: 'query_result(up)' })).toBeNull()
  })
  it('sorts and filters the options', () => {
    expect(sortOptions(['appserver2', 'appserver1', 'appserver2'], model)).toEqual(['appserver1', 'appserver2'])
    expect(sortOptions(['b', 'a'], { ...model, sort: 2 })).toEqual(['b', 'a'])
    expect(sortOptions(['app10', 'app9'], { ...model, sort: 3 })).toEqual(['app9', 'app10'])
    expect(sortOptions(['a1', 'b1'], { ...model, regex: '/^a/' })).toEqual(['a1'])
  })
  it('All, one value and several values, as the query sees them', () => {
    expect(variableValue(variable([ALL]))).toBe('(appserver1|appserver2)')
    expect(variableValue(variable(['appserver2']))).toBe('appserver2')
    expect(variableValue(variable(['appserver1', 'appserver2']))).toBe('(appserver1|appserver2)')
    expect(variableValue(variable([ALL], ['appserver1', 'appserver2', 'appserver3'])))
      .toBe('(appserver1|appserver2|appserver3)')
    expect(variableValue({ ...variable([ALL]), allValue: '.*' })).toBe('.*')
  })
  it('values are escaped for a regex inside a PromQL string', () => {
    expect(escapeForRegex('a.b')).toBe('a\\\\.b')
    expect(variableValue(variable(['web-1.local']))).toBe('web-1\\\\.local')
  })
  it('the URL or the file chooses the selection, kept to known options', () => {
    expect(initialSelection(model, [], ['appserver1'])).toEqual([ALL])
    expect(initialSelection(model, ['appserver2'], ['appserver1', 'appserver2'])).toEqual(['appserver2'])
    expect(initialSelection(model, ['All'], ['appserver1'])).toEqual([ALL])
    expect(initialSelection(model, ['gone'], ['appserver1'])).toEqual([ALL])
    expect(initialSelection({ ...model, multi: false, includeAll: false }, ['gone'], ['a', 'b'])).toEqual(['a'])
  })
  it('substitutes $name, ${name}, ${name:format} and [[name]]; unknown names stay', () => {
    const values = { appserver: '(a|b)', job: 'app' }
    expect(interpolate('up{appserver=~"$appserver", job="${job}"}', values)).toBe('up{appserver=~"(a|b)", job="app"}')
    expect(interpolate('x{j="${job:regex}"} [[job]]', values)).toBe('x{j="app"} app')
    expect(interpolate('$instance', values)).toBe('$instance')
  })
})

describe('macros and queries', () => {
  const range = timeRange('now-30m', 'now', 1_000_000)
  it('$__interval, $__rate_interval and $__range from the range and the scrape interval', () => {
    const b = builtins(range, 10, 2)
    expect(b.__interval).toBe('10s')
    expect(b.__rate_interval).toBe('12s') // max(10 s + 2 s, 4 × 2 s)
    expect(b.__range).toBe('1800s')
    expect(builtins(range, 2, 2).__rate_interval).toBe('8s')
    expect(b.__range_s).toBe('1800')
  })
  const panel: Panel = { type: 'timeseries', gridPos: { x: 0, y: 0, w: 12, h: 8 }, targets: [
    { refId: 'A', expr: 'rate(x{appserver=~"$appserver"}[$__rate_interval])', range: true, instant: false },
    { refId: 'B', expr: 'changes(y[$__range])', instant: true, range: false },
    { refId: 'C', expr: 'hidden', hide: true },
  ] }
  it('range targets on a step grid aligned to the interval; instant targets at the end', () => {
    const [a, b, ...rest] = prepare(panel, { range, variables: { appserver: '(a|b)' }, scrapeInterval: 2 })
    expect(rest).toEqual([])
    expect(a.path).toBe('/api/v1/query_range')
    expect(a.expr).toBe('rate(x{appserver=~"(a|b)"}[12s])')
    expect(a.params.step).toBe('10')
    expect(Number(a.params.start) % 10).toBe(0)
    const points = (Number(a.params.end) - Number(a.params.start)) / Number(a.params.step) + 1
    expect(points).toBeLessThanOrEqual(300)
    expect(b.path).toBe('/api/v1/query')
    expect(b.expr).toBe('changes(y[1800s])')
    expect(b.params.time).toBe('1000000.000')
  })
  it('a 24 h range asks for at most a few hundred points per series', () => {
    const day = timeRange('now-24h', 'now', 1_000_000)
    const [a] = prepare(panel, { range: day, variables: { appserver: 'a' }, scrapeInterval: 2 })
    const points = (Number(a.params.end) - Number(a.params.start)) / Number(a.params.step) + 1
    expect(Number(a.params.step)).toBe(300)
    expect(points).toBeLessThanOrEqual(300)
  })
})
