// Absolute (and percentage) thresholds: a value takes the colour of the highest step it reaches;
// the base step (value null) covers everything below the first.
import type { Thresholds } from './types'

export function thresholdStep(value: number, thresholds: Thresholds | undefined, min = 0, max = 100) {
  const steps = [...(thresholds?.steps ?? [])].sort((a, b) => (a.value ?? -Infinity) - (b.value ?? -Infinity))
  if (!steps.length) return undefined
  const compared = thresholds?.mode === 'percentage' && max > min ? ((value - min) / (max - min)) * 100 : value
  let found = steps[0]
  for (const step of steps) {
    if (step.value === null || compared >= step.value) found = step
  }
  return found
}

/** The colour name of the step a value reaches (undefined without thresholds). */
export function thresholdColor(value: number, thresholds: Thresholds | undefined, min?: number, max?: number) {
  return thresholdStep(value, thresholds, min, max)?.color
}

/** The steps above the base one, where lines or markers are drawn. */
export function thresholdLines(thresholds: Thresholds | undefined): { value: number; color: string }[] {
  return (thresholds?.steps ?? []).filter((s): s is { value: number; color: string } => s.value !== null)
}
