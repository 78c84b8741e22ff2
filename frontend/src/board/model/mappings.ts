// Value mappings: the first mapping that matches gives the text and/or colour shown for a value.
import type { MappingResult, ValueMapping } from './types'

export function mapValue(value: number | string | null, mappings: ValueMapping[] | undefined): MappingResult | null {
  for (const mapping of mappings ?? []) {
    switch (mapping.type) {
      case 'value': {
        if (value === null) break
        const key = typeof value === 'number' ? String(value) : value
        if (key in mapping.options) return mapping.options[key]
        break
      }
      case 'range': {
        const { from, to, result } = mapping.options
        if (typeof value === 'number' && !Number.isNaN(value) && (from === null || value >= from)
            && (to === null || value <= to)) return result
        break
      }
      case 'regex': {
        if (value === null) break
        if (new RegExp(mapping.options.pattern).test(String(value))) return mapping.options.result
        break
      }
      case 'special': {
        const { match, result } = mapping.options
        const isNan = typeof value === 'number' && Number.isNaN(value)
        if ((match === 'null' && value === null) || (match === 'nan' && isNan)
            || (match === 'null+nan' && (value === null || isNan)) || (match === 'empty' && value === '')
            || (match === 'true' && (value === 1 || value === 'true'))
            || (match === 'false' && (value === 0 || value === 'false'))) return result
        break
      }
    }
  }
  return null
}
