// The ISO 13616 mod-97 check, as app/bank/money.py does it, for validation as the user types.

const IBAN_PATTERN = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/

export function normalizeIban(iban: string): string {
  return iban.replace(/\s+/g, '').toUpperCase()
}

/** "AT961000100000000001" → "AT96 1000 1000 0000 0001" */
export function formatIban(iban: string): string {
  return normalizeIban(iban).replace(/(.{4})(?=.)/g, '$1 ')
}

function mod97(iban: string): number {
  const rearranged = iban.slice(4) + iban.slice(0, 4)
  // Letters become 10..35; the number is reduced piecewise so it never leaves a safe integer.
  let remainder = 0
  for (const ch of rearranged) {
    const digits = String(parseInt(ch, 36))
    for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97
  }
  return remainder
}

export function isValidIban(iban: string): boolean {
  const normalized = normalizeIban(iban)
  return IBAN_PATTERN.test(normalized) && mod97(normalized) === 1
}

export type IbanCheck = { state: 'empty' | 'incomplete' | 'invalid' | 'valid'; message: string }

/** What to tell the user about an IBAN while it is being typed. */
export function checkIban(input: string): IbanCheck {
  const iban = normalizeIban(input)
  if (!iban) return { state: 'empty', message: 'For example AT69 1000 1000 0000 0002' }
  if (/[^A-Z0-9]/.test(iban)) return { state: 'invalid', message: 'An IBAN has only letters and digits.' }
  if (!/^[A-Z]*$/.test(iban.slice(0, 2)))
    return { state: 'invalid', message: 'An IBAN starts with a two-letter country code, like AT.' }
  if (!/^\d*$/.test(iban.slice(2, 4)))
    return { state: 'invalid', message: 'The country code is followed by two check digits.' }
  const expected = iban.startsWith('AT') ? 20 : 15
  if (iban.length < expected) return { state: 'incomplete', message: `${iban.length} of ${expected} characters` }
  if (iban.startsWith('AT') && iban.length > 20)
    return { state: 'invalid', message: 'An Austrian IBAN has exactly 20 characters.' }
  if (iban.length > 34) return { state: 'invalid', message: 'An IBAN has at most 34 characters.' }
  if (!isValidIban(iban)) return { state: 'invalid', message: "The check digits don't match: please check for a typo." }
  return { state: 'valid', message: 'Valid IBAN' }
}
