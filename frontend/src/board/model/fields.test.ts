import { display, fieldConfig } from './fields'
import type { FieldConfigSource } from './types'

// The shape of the overview's "App servers now" table.
const table: FieldConfigSource = {
  defaults: { unit: 'none', thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] },
    color: { mode: 'thresholds' }, custom: { cellOptions: { type: 'auto' } } },
  overrides: [
    { matcher: { id: 'byName', options: 'Value #A' }, properties: [{ id: 'displayName', value: 'Process' },
      { id: 'mappings', value: [{ type: 'value', options: { 0: { text: 'DOWN', color: 'red' }, 1: { text: 'UP', color: 'green' } } }] },
      { id: 'custom.cellOptions', value: { type: 'color-background' } }] },
    { matcher: { id: 'byName', options: 'Value #D' }, properties: [{ id: 'displayName', value: 'Memory (RSS)' },
      { id: 'unit', value: 'bytes' }] },
    { matcher: { id: 'byFrameRefID', options: 'B' }, properties: [{ id: 'decimals', value: 1 }] },
    { matcher: { id: 'byRegexp', options: '^Value #[CE]$' }, properties: [{ id: 'min', value: 0 }] },
  ],
}

describe('field config and overrides', () => {
  it('defaults apply to every field; an override only to the fields it matches', () => {
    expect(fieldConfig(table, { name: 'Value #C' }).unit).toBe('none')
    expect(fieldConfig(table, { name: 'Value #D' }).unit).toBe('bytes')
    expect(fieldConfig(table, { name: 'Value #D' }).displayName).toBe('Memory (RSS)')
    expect(fieldConfig(table, { name: 'Value #A' }).custom?.cellOptions).toEqual({ type: 'color-background' })
    expect(fieldConfig(table, { name: 'Value #C' }).custom?.cellOptions).toEqual({ type: 'auto' })
  })
  it('byFrameRefID and byRegexp matchers', () => {
    expect(fieldConfig(table, { name: 'x', refId: 'B' }).decimals).toBe(1)
    expect(fieldConfig(table, { name: 'x', refId: 'A' }).decimals).toBeUndefined()
    expect(fieldConfig(table, { name: 'Value #E' }).min).toBe(0)
    expect(fieldConfig(table, { name: 'Value #D' }).min).toBeUndefined()
  })
  it('a mapping gives text and colour; otherwise the unit and the thresholds', () => {
    const process = fieldConfig(table, { name: 'Value #A' })
    expect(display(1, process)).toMatchObject({ text: 'UP', color: '#73BF69', mapped: true })
    expect(display(0, process)).toMatchObject({ text: 'DOWN', color: '#F2495C' })
    const memory = display(80 * 1024 * 1024, fieldConfig(table, { name: 'Value #D' }))
    expect(memory.text + memory.suffix).toBe('80 MiB')
    expect(memory.color).toBe('#73BF69')
  })
  it('palette colour modes colour by series; fixed by the fixed colour', () => {
    expect(display(1, { color: { mode: 'palette-classic' } }, 1).color).toBe('#EAB839')
    expect(display(1, { color: { mode: 'fixed', fixedColor: 'purple' } }).color).toBe('#B877D9')
  })
  it('no value shows noValue or a dash', () => {
    expect(display(null, {}).text).toBe('–')
    expect(display(null, { noValue: 'never' }).text).toBe('never')
  })
})
