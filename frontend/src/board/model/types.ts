// The parts of Grafana's dashboard JSON (schemaVersion 42) that PiggyBank's board reads. Written from
// Grafana's published dashboard schema and panel documentation; anything else in a file is ignored.

export interface GridPos {
  x: number
  y: number
  w: number
  h: number
}

export interface Threshold {
  color: string
  value: number | null
}

export interface Thresholds {
  mode?: 'absolute' | 'percentage'
  steps: Threshold[]
}

export interface MappingResult {
  text?: string
  color?: string
  index?: number
}

export type ValueMapping =
  | { type: 'value'; options: Record<string, MappingResult> }
  | { type: 'range'; options: { from: number | null; to: number | null; result: MappingResult } }
  | { type: 'regex'; options: { pattern: string; result: MappingResult } }
  | { type: 'special'; options: { match: 'null' | 'nan' | 'null+nan' | 'true' | 'false' | 'empty'; result: MappingResult } }

export interface FieldColor {
  mode: string
  fixedColor?: string
}

export interface FieldConfig {
  unit?: string
  decimals?: number
  min?: number
  max?: number
  displayName?: string
  noValue?: string
  mappings?: ValueMapping[]
  thresholds?: Thresholds
  color?: FieldColor
  custom?: Record<string, unknown>
}

export interface Override {
  matcher: { id: string; options?: unknown }
  properties: { id: string; value?: unknown }[]
}

export interface FieldConfigSource {
  defaults?: FieldConfig
  overrides?: Override[]
}

export interface Target {
  refId: string
  expr?: string
  legendFormat?: string
  instant?: boolean
  range?: boolean
  format?: 'time_series' | 'table' | 'heatmap'
  interval?: string
  hide?: boolean
  datasource?: { type?: string; uid?: string }
}

export interface Panel {
  id?: number
  type: string
  title?: string
  description?: string
  gridPos: GridPos
  collapsed?: boolean
  panels?: Panel[]
  datasource?: { type?: string; uid?: string } | null
  targets?: Target[]
  fieldConfig?: FieldConfigSource
  options?: Record<string, unknown>
  interval?: string
  maxDataPoints?: number
}

export interface VariableModel {
  type: string
  name: string
  label?: string
  description?: string
  query?: string | { query?: string }
  definition?: string
  multi?: boolean
  includeAll?: boolean
  allValue?: string | null
  sort?: number
  regex?: string
  current?: { text?: string | string[]; value?: string | string[] }
  hide?: number
}

export interface DashboardLink {
  title: string
  type: string
  url?: string
  tooltip?: string
  keepTime?: boolean
  includeVars?: boolean
  targetBlank?: boolean
}

export interface Dashboard {
  uid: string
  title: string
  description?: string
  refresh?: string
  time?: { from: string; to: string }
  timepicker?: { refresh_intervals?: string[] }
  templating?: { list?: VariableModel[] }
  links?: DashboardLink[]
  panels: Panel[]
}

export interface DataSourceSetting {
  uid: string
  name: string
  type: string
  isDefault: boolean
  timeInterval: string | null
}

// /board.json, rendered by stack/render.py from the files Grafana reads.
export interface BoardSettings {
  home: string
  datasources: DataSourceSetting[]
  grafanaVersion: string
  whyNoGrafana: string
}
