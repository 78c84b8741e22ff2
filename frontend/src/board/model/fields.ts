// A field's configuration: the panel's fieldConfig.defaults, then every override whose matcher
// matches the field, in order (byName, byRegexp, byFrameRefID, byType), and what a value of it
// looks like: text from a mapping or the unit, colour from the mapping, thresholds or palette.
import { paletteColor, resolveColor } from './colors'
import { mapValue } from './mappings'
import { thresholdColor } from './thresholds'
import type { FieldConfig, FieldConfigSource, Override } from './types'
import { type Formatted, formatValue } from './units'

export interface FieldRef {
  name: string // the series' name or the table column's
  refId?: string
  type?: 'number' | 'string' | 'time'
}

function matches(override: Override, field: FieldRef): boolean {
  const { id, options } = override.matcher
  switch (id) {
    case 'byName': return options === field.name
    case 'byRegexp': return typeof options === 'string' && new RegExp(options).test(field.name)
    case 'byFrameRefID': return options === field.refId
    case 'byType': return options === (field.type ?? 'number')
    case 'byNames': {
      const names = (options as { names?: string[] } | undefined)?.names ?? []
      return names.includes(field.name)
    }
    default: return false
  }
}

export function fieldConfig(source: FieldConfigSource | undefined, field: FieldRef): FieldConfig {
  const config: FieldConfig = { ...(source?.defaults ?? {}), custom: { ...(source?.defaults?.custom ?? {}) } }
  for (const override of source?.overrides ?? []) {
    if (!matches(override, field)) continue
    for (const { id, value } of override.properties) {
      if (id.startsWith('custom.')) {
        config.custom = { ...config.custom, [id.slice(7)]: value }
      } else {
        (config as Record<string, unknown>)[id] = value
      }
    }
  }
  return config
}

export interface Display extends Formatted {
  color: string // CSS colour
  mapped: boolean
}

/** How one value of a field is shown; `index` picks the palette colour in palette modes. */
export function display(value: number | null, config: FieldConfig, index = 0): Display {
  const mapping = mapValue(value, config.mappings)
  const palette = config.color?.mode?.startsWith('palette')
  const fromThresholds = value === null || Number.isNaN(value) ? undefined
    : thresholdColor(value, config.thresholds, config.min ?? 0, config.max ?? 100)
  let color = config.color?.mode === 'fixed' ? resolveColor(config.color.fixedColor)
    : palette ? paletteColor(index) : resolveColor(fromThresholds)
  if (mapping?.color) color = resolveColor(mapping.color)
  if (mapping?.text !== undefined) return { text: mapping.text, suffix: '', color, mapped: true }
  if (value === null) return { text: config.noValue ?? '–', suffix: '', color, mapped: false }
  return { ...formatValue(value, config.unit, config.decimals), color, mapped: false }
}
