// Dashboard variables and Grafana's built-in macros, substituted into a query as Grafana's
// Prometheus data source does: a multi-value or "All" variable becomes a regex alternation of its
// values, each escaped for a PromQL string.
import type { VariableModel } from './types'

export const ALL = '$__all'

export interface Variable {
  name: string
  label: string
  description?: string
  multi: boolean
  includeAll: boolean
  allValue?: string
  options: string[]
  selected: string[] // values, or [ALL]
  error?: string
}

/** The label_values(metric, label) / label_values(label) query of a query variable. */
export function labelValuesQuery(model: VariableModel): { label: string; match?: string } | null {
  const text = typeof model.query === 'string' ? model.query : model.query?.query ?? model.definition ?? ''
  const withMetric = /^\s*label_values\(\s*(.+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(text)
  if (withMetric) return { match: withMetric[1].trim(), label: withMetric[2] }
  const labelOnly = /^\s*label_values\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(text)
  return labelOnly ? { label: labelOnly[1] } : null
}

/** Options as Grafana lists them: the variable's regex filter, then its sort (1/2 alphabetical, 3/4 numerical). */
export function sortOptions(values: string[], model: VariableModel): string[] {
  let options = [...new Set(values)]
  if (model.regex) {
    const regex = new RegExp(model.regex.replace(/^\/(.*)\/[a-z]*$/, '$1'))
    options = options.filter((v) => regex.test(v))
  }
  const numeric = (v: string) => parseFloat(v.replace(/^\D*/, '')) || 0
  switch (model.sort) {
    case 1: return options.sort((a, b) => a.localeCompare(b))
    case 2: return options.sort((a, b) => b.localeCompare(a))
    case 3: return options.sort((a, b) => numeric(a) - numeric(b))
    case 4: return options.sort((a, b) => numeric(b) - numeric(a))
    default: return options
  }
}

/** The selection from the URL (?var-name=...), else the file's current value, kept to known options. */
export function initialSelection(model: VariableModel, fromUrl: string[], options: string[]): string[] {
  const wanted = fromUrl.length ? fromUrl : [model.current?.value ?? []].flat()
  const normalised = wanted.map((v) => (v === 'All' || v === ALL ? ALL : v))
  if (normalised.includes(ALL) && model.includeAll) return [ALL]
  const known = normalised.filter((v) => options.includes(v))
  if (known.length) return model.multi ? known : known.slice(0, 1)
  return model.includeAll ? [ALL] : options.slice(0, 1)
}

/** Escapes a value for a regex inside a PromQL string literal ("a.b" → "a\\.b"). */
export function escapeForRegex(value: string): string {
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&')
}

/** What $name stands for in a query. */
export function variableValue(variable: Variable): string {
  const values = variable.selected.includes(ALL)
    ? (variable.allValue !== undefined ? null : variable.options)
    : variable.selected
  if (values === null) return variable.allValue as string
  if (!variable.multi && !variable.includeAll) return values[0] ?? ''
  const escaped = values.map(escapeForRegex)
  return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`
}

/** Replaces $name, ${name}, ${name:format} and [[name]] with the given values; unknown names stay. */
export function interpolate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, braced, bracketed, plain) => {
    const name = braced ?? bracketed ?? plain
    return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole
  })
}
