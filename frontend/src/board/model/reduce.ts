// The reducers of reduceOptions.calcs (stat, gauge): null and NaN are "no value".

export type Reducer = 'lastNotNull' | 'last' | 'firstNotNull' | 'first' | 'mean' | 'max' | 'min' | 'sum' | 'count'
  | 'range' | 'delta' | 'diff'

const present = (v: number | null): v is number => v !== null && !Number.isNaN(v)

export function reduce(values: (number | null)[], calc: string): number | null {
  const real = values.filter(present)
  switch (calc) {
    case 'last': return values.length ? values[values.length - 1] : null
    case 'first': return values.length ? values[0] : null
    case 'firstNotNull': return real.length ? real[0] : null
    case 'mean': return real.length ? real.reduce((a, b) => a + b, 0) / real.length : null
    case 'max': return real.length ? Math.max(...real) : null
    case 'min': return real.length ? Math.min(...real) : null
    case 'sum': return real.reduce((a, b) => a + b, 0)
    case 'count': return values.length
    case 'range': return real.length ? Math.max(...real) - Math.min(...real) : null
    case 'diff': return real.length ? real[real.length - 1] - real[0] : null
    case 'delta': {
      let total = 0
      for (let i = 1; i < real.length; i++) total += real[i] >= real[i - 1] ? real[i] - real[i - 1] : real[i]
      return real.length ? total : null
    }
    case 'lastNotNull':
    default: return real.length ? real[real.length - 1] : null
  }
}
