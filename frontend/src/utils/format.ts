// How money and moments are shown: amounts stay decimal strings until they are displayed.

const euro = new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' })
const moment = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' })
const day = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' })
const time = new Intl.DateTimeFormat('en-GB', { timeStyle: 'short' })

export function formatMoney(amount: string | number): string {
  return euro.format(Number(amount))
}

/** "+€10.00" for money in, "−€10.00" for money out. */
export function formatSigned(amount: string, direction: 'in' | 'out'): string {
  return `${direction === 'in' ? '+' : '\u2212'}${euro.format(Math.abs(Number(amount)))}`
}

export const formatDateTime = (iso: string) => moment.format(new Date(iso))
export const formatDate = (iso: string) => day.format(new Date(iso))
export const formatTime = (iso: string) => time.format(new Date(iso))

/** Materialize's colour classes say "grey"; the seed's "gray" is mapped to it. */
export function tagColorClass(color: string): string {
  return color.replace(/\bgray\b/g, 'grey')
}

/** Amount input → the API's decimal string ("12,5" → "12.50"), or null when it isn't money. */
export function toMoneyString(input: string): string | null {
  const text = input.trim().replace(',', '.')
  if (!/^\d{1,12}(\.\d{1,2})?$/.test(text)) return null
  return Number(text).toFixed(2)
}
