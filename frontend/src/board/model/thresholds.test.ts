import { contrast, resolveColor, textOn } from './colors'
import { mapValue } from './mappings'
import { thresholdColor, thresholdLines } from './thresholds'
import type { Thresholds, ValueMapping } from './types'

const steps: Thresholds = { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: 1 },
  { color: 'red', value: 3 }] }

describe('thresholds', () => {
  it('a value takes the highest step it reaches; the base step covers everything below', () => {
    expect(thresholdColor(-5, steps)).toBe('green')
    expect(thresholdColor(0.99, steps)).toBe('green')
    expect(thresholdColor(1, steps)).toBe('orange')
    expect(thresholdColor(2.5, steps)).toBe('orange')
    expect(thresholdColor(3, steps)).toBe('red')
    expect(thresholdColor(1e9, steps)).toBe('red')
  })
  it('steps need not be written in order', () => {
    const shuffled: Thresholds = { steps: [{ color: 'red', value: 0.9 }, { color: 'green', value: null }] }
    expect(thresholdColor(0.5, shuffled)).toBe('green')
    expect(thresholdColor(0.95, shuffled)).toBe('red')
  })
  it('percentage thresholds are relative to min and max', () => {
    const pct: Thresholds = { mode: 'percentage', steps: [{ color: 'green', value: null }, { color: 'red', value: 80 }] }
    expect(thresholdColor(0.5, pct, 0, 1)).toBe('green')
    expect(thresholdColor(0.85, pct, 0, 1)).toBe('red')
  })
  it('no thresholds, no colour; lines are drawn for the steps above the base', () => {
    expect(thresholdColor(1, undefined)).toBeUndefined()
    expect(thresholdLines(steps)).toEqual([{ color: 'orange', value: 1 }, { color: 'red', value: 3 }])
  })
  it('named colours resolve, and the text on them keeps WCAG AA contrast', () => {
    for (const name of ['green', 'red', 'orange', 'yellow', 'blue', 'purple', 'dark-red', 'dark-green']) {
      const background = resolveColor(name)
      expect(background).toMatch(/^#[0-9A-F]{6}$/)
      expect(contrast(background, textOn(background))).toBeGreaterThanOrEqual(4.5)
    }
    expect(resolveColor('#123456')).toBe('#123456')
  })
})

describe('value mappings', () => {
  const updown: ValueMapping[] = [{ type: 'value', options: { 0: { text: 'DOWN', color: 'red' }, 1: { text: 'UP', color: 'green' } } }]
  it('value mappings match the value as text', () => {
    expect(mapValue(1, updown)).toEqual({ text: 'UP', color: 'green' })
    expect(mapValue(0, updown)).toEqual({ text: 'DOWN', color: 'red' })
    expect(mapValue(2, updown)).toBeNull()
    expect(mapValue(null, updown)).toBeNull()
  })
  it('range, regex and special mappings; the first match wins', () => {
    const mappings: ValueMapping[] = [
      { type: 'special', options: { match: 'null', result: { text: 'never' } } },
      { type: 'range', options: { from: 0, to: 10, result: { text: 'low', color: 'blue' } } },
      { type: 'range', options: { from: 5, to: null, result: { text: 'high' } } },
      { type: 'regex', options: { pattern: '^ab', result: { text: 'AB…' } } },
      { type: 'special', options: { match: 'nan', result: { text: 'not a number' } } },
    ]
    expect(mapValue(null, mappings)?.text).toBe('never')
    expect(mapValue(7, mappings)?.text).toBe('low')
    expect(mapValue(70, mappings)?.text).toBe('high')
    expect(mapValue('abc', mappings)?.text).toBe('AB…')
    expect(mapValue(NaN, mappings)?.text).toBe('not a number')
  })
})
