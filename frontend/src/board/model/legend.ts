// Series names: a target's legendFormat with {{label}} replaced, or, without one, the series as
// Prometheus names it: metric{label="value", ...}.

export type Labels = Record<string, string>

export function formatLabels(labels: Labels): string {
  const { __name__: name = '', ...rest } = labels
  const inner = Object.keys(rest).sort().map((k) => `${k}="${rest[k]}"`).join(', ')
  return inner ? `${name}{${inner}}` : name
}

export function seriesName(labels: Labels, legendFormat: string | undefined, expr: string): string {
  if (legendFormat && legendFormat !== '__auto') {
    return legendFormat.replace(/\{\{\s*([^}\s]+)\s*\}\}/g, (_, label: string) => labels[label] ?? '')
  }
  return formatLabels(labels) || expr
}
