import { formatTicks, formatValue, join } from './units'

const show = (value: number, unit: string, decimals?: number) => join(formatValue(value, unit, decimals))

describe('units', () => {
  it('percent and percentunit', () => {
    expect(show(42, 'percent')).toBe('42%')
    expect(show(0.1234, 'percentunit')).toBe('12.3%')
    expect(show(0.99987, 'percentunit', 3)).toBe('99.987%')
    expect(show(1, 'percentunit')).toBe('100%')
  })
  it('bytes in IEC steps, decbytes in SI steps', () => {
    expect(show(512, 'bytes')).toBe('512 B')
    expect(show(80 * 1024 * 1024, 'bytes')).toBe('80 MiB')
    expect(show(1536, 'bytes')).toBe('1.5 KiB')
    expect(show(1500, 'decbytes')).toBe('1.5 kB')
  })
  it('seconds and milliseconds scale to the readable unit', () => {
    expect(show(0.0123, 's')).toBe('12.3 ms')
    expect(show(0.5, 's')).toBe('500 ms')
    expect(show(2.5, 's')).toBe('2.5 s')
    expect(show(90, 's')).toBe('1.5 min')
    expect(show(7200, 's')).toBe('2 hour')
    expect(show(250, 'ms')).toBe('250 ms')
    expect(show(1500, 'ms')).toBe('1.5 s')
  })
  it('rates and counts', () => {
    expect(show(12.5, 'reqps')).toBe('12.5 req/s')
    expect(show(1200, 'reqps')).toBe('1.2K req/s')
    expect(show(3, 'ops')).toBe('3 ops/s')
    expect(show(1500000, 'short')).toBe('1.5 Mil')
    expect(show(3, 'none')).toBe('3')
    expect(show(0, 'none')).toBe('0')
  })
  it('dtdurations in words, largest parts first', () => {
    expect(show(45, 'dtdurations')).toBe('45 seconds')
    expect(show(9523, 'dtdurations')).toBe('2 hours, 38 minutes')
    expect(show(86400 + 3 * 3600 + 5, 'dtdurations')).toBe('1 day, 3 hours')
    expect(show(3600, 'dtdurations')).toBe('1 hour')
  })
  it('explicit decimals are kept, auto decimals trimmed', () => {
    expect(show(0.5, 'none', 2)).toBe('0.50')
    expect(show(12.5, 'none')).toBe('12.5')
    expect(show(0.001234, 'none')).toBe('0.001')
  })
  it('unknown units become a suffix; prefix and suffix units', () => {
    expect(show(3, 'widgets')).toBe('3 widgets')
    expect(show(3, 'suffix: apples')).toBe('3 apples')
    expect(show(3, 'prefix:€')).toBe('€3')
  })
  it('special values', () => {
    expect(show(NaN, 'none')).toBe('NaN')
    expect(show(Infinity, 'none')).toBe('+Inf')
  })
  it('axis ticks use the fewest decimals that keep them apart', () => {
    expect(formatTicks([0, 0.5, 1], 'none')).toEqual(['0', '0.5', '1'])
    expect(formatTicks([0, 0.1, 0.2], 'percentunit')).toEqual(['0%', '10%', '20%'])
    expect(formatTicks([0, 32 * 1024 ** 2, 64 * 1024 ** 2], 'bytes')).toEqual(['0 B', '32 MiB', '64 MiB'])
    expect(formatTicks([0, 0.25, 0.5, 0.75, 1], 'ops')).toEqual(['0 ops/s', '0.25 ops/s', '0.5 ops/s', '0.75 ops/s', '1 ops/s'])
    const mib = 1024 ** 2
    expect(formatTicks([0, 20e6, 40e6, 60e6, 80e6], 'bytes')).toEqual(['0 B', '19 MiB', '38 MiB', '57 MiB', '76 MiB'])
    expect(formatTicks([0, 0.5 * mib, mib], 'bytes')).toEqual(['0 B', '512 KiB', '1 MiB'])
    expect(formatTicks([0, 1800, 3600], 'dtdurations')).toEqual(['0 seconds', '30 minutes', '1 hour'])
  })
})
