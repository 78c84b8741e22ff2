import { segments, stackValues } from './timeline'
import type { FieldConfig } from './types'

const updown: FieldConfig = { color: { mode: 'thresholds' }, thresholds: { steps: [{ color: 'green', value: null }] },
  mappings: [{ type: 'value', options: { 0: { text: 'DOWN', color: 'red' }, 1: { text: 'UP', color: 'green' } } }] }
const series = (values: (number | null)[]) => ({ refId: 'A', name: 'appserver1 process', labels: {},
  times: values.map((_, i) => 100 + i * 10), values })

describe('state timeline', () => {
  it('merges equal neighbours and keeps a gap where a step has no sample', () => {
    const s = segments(series([1, 1, 0, null, null, 1]), updown, true, 10)
    expect(s.map((x) => [x.from, x.to, x.text, x.value])).toEqual([
      [100, 120, 'UP', 1], [120, 130, 'DOWN', 0], [130, 150, '', null], [150, 160, 'UP', 1]])
    expect(s[0].color).toBe('#73BF69')
    expect(s[1].color).toBe('#F2495C')
  })
  it('without mergeValues every sample is its own segment', () => {
    expect(segments(series([1, 1]), updown, false, 10)).toHaveLength(2)
  })
})

describe('stacking', () => {
  it('adds each series to the ones before; null stays a gap', () => {
    expect(stackValues([[1, 2, null], [3, 4, 5]])).toEqual([[1, 2, null], [4, 6, 5]])
  })
})
