import { useMemo } from 'react'
import {
  CategoryScale, Chart as ChartJS, Filler, Legend, LinearScale, LineElement, PointElement, Tooltip, type ChartOptions,
} from 'chart.js'
import { Line } from 'react-chartjs-2'
import { useAppDispatch, useAppSelector } from '../../app/hooks'
import { formatMoney } from '../../utils/format'
import { ErrorPanel } from '../../utils/Feedback'
import type { Direction, Interval } from '../api/types'
import {
  differenceToggled, differences, directionChosen, fillGaps, intervalChosen, selectStatsView, useGetStatsQuery,
} from './statsSlice'

ChartJS.register(CategoryScale, LinearScale, PointElement, LineElement, Filler, Tooltip, Legend)

const INTERVALS: { value: Interval; label: string }[] = [
  { value: 'daily', label: 'Daily' },
  { value: 'monthly', label: 'Monthly' },
  { value: 'yearly', label: 'Yearly' },
]
const DIRECTIONS: { value: Direction; label: string }[] = [
  { value: 'out', label: 'Money out' },
  { value: 'in', label: 'Money in' },
]
const UNIT: Record<Interval, string> = { daily: 'day', monthly: 'month', yearly: 'year' }
const COLORS = { out: '#fb8c00', in: '#43a047', diff: '#e53935' }

function Segmented<T extends string>({ name, legend, options, value, onChange }: {
  name: string; legend: string; options: { value: T; label: string }[]; value: T; onChange: (v: T) => void
}) {
  return (
    <fieldset className="segmented">
      <legend className="visually-hidden">{legend}</legend>
      {options.map((o) => (
        <label key={o.value}>
          <input type="radio" name={name} value={o.value} checked={value === o.value} onChange={() => onChange(o.value)} />
          <span>{o.label}</span>
        </label>
      ))}
    </fieldset>
  )
}

export function StatsCard() {
  const dispatch = useAppDispatch()
  const { interval, direction, showDifference } = useAppSelector(selectStatsView)
  const { data, error, isFetching, isLoading, refetch } = useGetStatsQuery({ interval, direction })

  const points = useMemo(() => {
    const filled = fillGaps(data?.series ?? [], interval)
    return showDifference ? differences(filled) : filled
  }, [data, interval, showDifference])

  const color = showDifference ? COLORS.diff : COLORS[direction]
  const label = showDifference ? 'Difference to the previous period' : direction === 'out' ? 'Money out' : 'Money in'
  const chartData = {
    labels: points.map((p) => p.period),
    datasets: [{
      label, data: points.map((p) => p.amount), borderColor: color, backgroundColor: `${color}22`, fill: true,
      tension: 0.3, cubicInterpolationMode: 'monotone' as const, pointRadius: points.length > 60 ? 0 : 3, pointHoverRadius: 5, borderWidth: 2,
    }],
  }
  const options: ChartOptions<'line'> = {
    responsive: true,
    maintainAspectRatio: false,
    animation: { duration: 250 },
    interaction: { mode: 'index', intersect: false },
    plugins: {
      legend: { display: true, position: 'bottom' },
      tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${formatMoney(Number(ctx.parsed.y))}` } },
    },
    scales: {
      y: { beginAtZero: !showDifference, ticks: { callback: (v) => formatMoney(Number(v)).replace(/\.00$/, '') } },
      x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
    },
  }
  const total = (data?.series ?? []).reduce((sum, p) => sum + Number(p.amount), 0)
  const state = isLoading ? 'loading' : error ? 'error' : isFetching ? 'refreshing' : 'ready'

  return (
    <section className="card stats-card" aria-labelledby="stats-title">
      <div className="card-content">
        <h2 id="stats-title" className="card-title">Statistics</h2>
        <div className="stats-controls">
          <Segmented name="interval" legend="Interval" options={INTERVALS} value={interval}
                     onChange={(v) => dispatch(intervalChosen(v))} />
          <Segmented name="direction" legend="Direction" options={DIRECTIONS} value={direction}
                     onChange={(v) => dispatch(directionChosen(v))} />
          <label className="difference-toggle">
            <input type="checkbox" className="filled-in" checked={showDifference}
                   onChange={(e) => dispatch(differenceToggled(e.target.checked))} />
            <span>Difference to the previous period</span>
          </label>
        </div>
        {error ? (
          <ErrorPanel error={error} onRetry={refetch} title="The statistics could not be loaded." />
        ) : (
          <div className="chart-box" data-testid="stats-chart" data-state={state} data-interval={interval}
               data-direction={direction} data-difference={showDifference} data-points={points.length}>
            {!isLoading && points.length === 0 ? (
              <p className="muted chart-empty">
                {showDifference && (data?.series.length ?? 0) === 1
                  ? 'A difference needs at least two periods with transfers.'
                  : 'No transfers to show for this view yet.'}
              </p>
            ) : (
              <Line data={chartData} options={options} role="img"
                    aria-label={`${label} per ${UNIT[interval]}, ${points.length} periods`} />
            )}
          </div>
        )}
        {data && !showDifference && (
          <p className="muted stats-total">
            {direction === 'out' ? 'Spent' : 'Received'} in all shown periods: <strong>{formatMoney(total)}</strong>
          </p>
        )}
      </div>
    </section>
  )
}
