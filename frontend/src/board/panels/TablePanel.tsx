// A table panel: the joined table of its queries, each column configured by its name (the
// overrides' displayName, unit, mappings and cellOptions: colour-background or colour-text).
import { textOn } from '../model/colors'
import { display, fieldConfig } from '../model/fields'
import type { Table } from '../model/frames'
import type { Panel } from '../model/types'

const when = (t: number) => new Date(t * 1000).toLocaleString('sv-SE')

export function TablePanel({ panel, table }: { panel: Panel; table: Table }) {
  const columns = table.columns.map((column) => {
    const config = fieldConfig(panel.fieldConfig, { name: column.name, refId: column.refId,
      type: column.kind === 'value' ? 'number' : column.kind === 'time' ? 'time' : 'string' })
    return { ...column, config, title: config.displayName ?? column.name }
  })
  const header = (panel.options?.showHeader as boolean | undefined) !== false
  return (
    // focusable: a table wider than a phone scrolls, and the keyboard must be able to scroll it too
    <div className="table-wrap" tabIndex={0} role="region" aria-label={`${panel.title ?? 'Table'} (scrollable)`}>
      <table className="board-table">
        <caption className="sr-only">{panel.title}</caption>
        <thead className={header ? undefined : 'sr-only'}>
          <tr>{columns.map((c) => <th key={c.name} scope="col">{c.title}</th>)}</tr>
        </thead>
        <tbody>
          {table.rows.map((row, r) => (
            <tr key={r}>
              {columns.map((c, i) => {
                const cell = row[i]
                if (c.kind === 'time') return <td key={c.name}>{typeof cell === 'number' ? when(cell) : ''}</td>
                if (c.kind === 'label') return <td key={c.name}>{String(cell ?? '')}</td>
                const shown = display(typeof cell === 'number' ? cell : null, c.config)
                const kind = ((c.config.custom?.cellOptions ?? {}) as { type?: string }).type ?? 'auto'
                const style = kind === 'color-background' ? { background: shown.color, color: textOn(shown.color) }
                  : kind === 'color-text' ? { color: shown.color } : undefined
                return (
                  <td key={c.name} className={shown.mapped ? undefined : 'number'} style={style}
                    data-column={c.title} data-color={shown.color}>{shown.text + shown.suffix}</td>
                )
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
