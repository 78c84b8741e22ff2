// Units of fieldConfig.unit, formatted the way Grafana shows them: a number and a suffix, scaled
// to a readable magnitude (bytes in KiB/MiB, seconds in ms/s/min/hour/day, counts in K/Mil/Bil).
// Written from Grafana's list of units; an unknown unit is shown as a suffix.

export interface Formatted {
  text: string
  suffix: string
}

export function join(f: Formatted): string {
  return f.text + f.suffix
}

/** Decimals for a value when the file sets none: about three significant digits, at most 3 places. */
export function autoDecimals(value: number): number {
  const size = Math.abs(value)
  if (size === 0 || size >= 100) return 0
  if (size >= 10) return 1
  if (size >= 1) return 2
  return Math.min(3, Math.max(2, 1 - Math.floor(Math.log10(size))))
}

function fixed(value: number, decimals: number | undefined): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf'
  const places = decimals ?? autoDecimals(value)
  const text = value.toFixed(places)
  // Without explicit decimals, 12.50 reads better as 12.5; explicit decimals are shown as asked.
  return decimals === undefined && text.includes('.') ? text.replace(/\.?0+$/, '') : text
}

function scaled(value: number, decimals: number | undefined, base: number, suffixes: string[]): Formatted {
  let size = value
  let index = 0
  while (Math.abs(size) >= base && index < suffixes.length - 1) {
    size /= base
    index += 1
  }
  return { text: fixed(size, decimals), suffix: suffixes[index] }
}

const SECOND_STEPS: [number, string][] = [[604800, ' week'], [86400, ' day'], [3600, ' hour'], [60, ' min'], [1, ' s']]

function seconds(value: number, decimals: number | undefined): Formatted {
  const size = Math.abs(value)
  if (size === 0) return { text: '0', suffix: ' s' }
  if (size < 1e-6) return { text: fixed(value * 1e9, decimals), suffix: ' ns' }
  if (size < 1e-3) return { text: fixed(value * 1e6, decimals), suffix: ' µs' }
  if (size < 1) return { text: fixed(value * 1e3, decimals), suffix: ' ms' }
  for (const [step, suffix] of SECOND_STEPS) {
    if (size >= step) return { text: fixed(value / step, decimals), suffix }
  }
  return { text: fixed(value, decimals), suffix: ' s' }
}

const DURATION_PARTS: [number, string][] = [[31536000, 'year'], [604800, 'week'], [86400, 'day'], [3600, 'hour'],
  [60, 'minute'], [1, 'second']]

/** A duration in words, its largest parts first: "2 hours, 38 minutes" (decimals: how many parts). */
function durationWords(totalSeconds: number, decimals: number | undefined): Formatted {
  if (!Number.isFinite(totalSeconds)) return { text: fixed(totalSeconds, 0), suffix: '' }
  const sign = totalSeconds < 0 ? '-' : ''
  let rest = Math.abs(totalSeconds)
  if (rest === 0) return { text: '0 seconds', suffix: '' }
  if (rest < 1) return { text: `${sign}${fixed(rest * 1000, 0)} milliseconds`, suffix: '' }
  const parts: string[] = []
  const wanted = Math.max(1, decimals ?? 2)
  for (const [size, name] of DURATION_PARTS) {
    const count = Math.floor(rest / size)
    if (count > 0 || parts.length) {
      if (count > 0) parts.push(`${count} ${name}${count === 1 ? '' : 's'}`)
      rest -= count * size
      if (parts.length >= wanted) break
      if (parts.length && count === 0) break // 2 hours, 0 minutes: stop at the gap
    }
  }
  return { text: sign + parts.join(', '), suffix: '' }
}

const SHORT = ['', ' K', ' Mil', ' Bil', ' Tri']

/** A value in a unit, e.g. formatValue(0.1234, "percentunit") → {text: "12.3", suffix: "%"}. */
export function formatValue(value: number, unit: string | undefined, decimals?: number): Formatted {
  const u = unit ?? 'none'
  if (u.startsWith('suffix:')) return { text: fixed(value, decimals), suffix: u.slice(7) }
  if (u.startsWith('prefix:')) return { text: u.slice(7) + fixed(value, decimals), suffix: '' }
  switch (u) {
    case '':
    case 'none':
      return { text: fixed(value, decimals), suffix: '' }
    case 'short':
      return scaled(value, decimals, 1000, SHORT)
    case 'percent':
      return { text: fixed(value, decimals), suffix: '%' }
    case 'percentunit':
      return { text: fixed(value * 100, decimals), suffix: '%' }
    case 'bytes':
      return scaled(value, decimals, 1024, [' B', ' KiB', ' MiB', ' GiB', ' TiB', ' PiB'])
    case 'decbytes':
      return scaled(value, decimals, 1000, [' B', ' kB', ' MB', ' GB', ' TB', ' PB'])
    case 'bits':
      return scaled(value, decimals, 1024, [' b', ' Kib', ' Mib', ' Gib', ' Tib'])
    case 's':
      return seconds(value, decimals)
    case 'ms':
      return seconds(value / 1000, decimals)
    case 'µs':
      return seconds(value / 1e6, decimals)
    case 'ns':
      return seconds(value / 1e9, decimals)
    case 'dtdurations':
      return durationWords(value, decimals)
    case 'dtdurationms':
      return durationWords(value / 1000, decimals)
    case 'reqps':
      return withSuffix(scaled(value, decimals, 1000, SHORT), ' req/s')
    case 'rps':
      return withSuffix(scaled(value, decimals, 1000, SHORT), ' reads/s')
    case 'wps':
      return withSuffix(scaled(value, decimals, 1000, SHORT), ' writes/s')
    case 'iops':
      return withSuffix(scaled(value, decimals, 1000, SHORT), ' io/s')
    case 'ops':
      return withSuffix(scaled(value, decimals, 1000, SHORT), ' ops/s')
    case 'opm':
      return withSuffix(scaled(value, decimals, 1000, SHORT), ' ops/min')
    case 'Bps':
      return scaled(value, decimals, 1024, [' B/s', ' KiB/s', ' MiB/s', ' GiB/s'])
    case 'bps':
      return scaled(value, decimals, 1000, [' bps', ' Kbps', ' Mbps', ' Gbps'])
    case 'hertz':
      return scaled(value, decimals, 1000, [' Hz', ' kHz', ' MHz', ' GHz'])
    case 'celsius':
      return { text: fixed(value, decimals), suffix: '°C' }
    case 'bool':
      return { text: value ? 'true' : 'false', suffix: '' }
    default:
      return { text: fixed(value, decimals), suffix: ` ${u}` }
  }
}

function withSuffix(f: Formatted, unit: string): Formatted {
  return { text: f.text + f.suffix.trim(), suffix: unit }
}

/** Labels for axis ticks: the fewest decimals that show every tick exactly (0.25, not 0.3). */
export function formatTicks(values: number[], unit: string | undefined, decimals?: number): string[] {
  if (decimals !== undefined) return values.map((v) => join(formatValue(v, unit, decimals)))
  const trimmed = (f: Formatted) => join({ ...f, text: f.text.includes('.') ? f.text.replace(/\.?0+$/, '') : f.text })
  const number = (f: Formatted) => parseFloat(f.text.replace(/[^\d.eE+-]/g, ''))
  // Ticks 19.07 MiB apart need no decimals even if they are not round in MiB.
  const shownValues = values.map((v) => number(formatValue(v, unit, 6)))
  const steps = shownValues.slice(1).map((v, i) => Math.abs(v - shownValues[i])).filter((d) => d > 0)
  const enough = steps.length ? Math.max(0, Math.ceil(-Math.log10(Math.min(...steps))) + 1) : 4
  for (let places = 0; places <= Math.min(4, enough); places++) {
    const exact = values.every((v) => {
      const shown = number(formatValue(v, unit, places))
      const precise = number(formatValue(v, unit, 6))
      return Number.isNaN(precise) || Math.abs(shown - precise) < 1e-6
    })
    if (exact || places === Math.min(4, enough)) return values.map((v) => trimmed(formatValue(v, unit, places)))
  }
  return values.map((v) => trimmed(formatValue(v, unit, 4)))
}
